using Peft.Data.Datasets;

namespace Peft.Tests.Datasets;

/// <summary>
/// The split_zhou datasets and FGVCAircraft on tiny trees in CoOp's layout; expected values are what CoOp's
/// <c>OxfordPets.read_split</c> / <c>FGVCAircraft.read_data</c> + Dassl's <c>get_lab2cname</c> give for the same files
/// (class names with '_' → ' ' as CoOp's prompt code does).
/// </summary>
public class CoopReaderTests() : DatasetTreeTests("peft-coop-")
{
    void Pets()
    {
        // Labels listed out of order on purpose: classes are ordered by label, not by first appearance.
        Split("oxford_pets/split_zhou_OxfordPets.json",
            train: [("Bombay_12.jpg", 1, "bombay"), ("american_bulldog_3.jpg", 0, "american_bulldog"), ("Bombay_5.jpg", 1, "bombay"),
                    ("english_cocker_spaniel_1.jpg", 2, "english_cocker_spaniel")],
            val: [("american_bulldog_9.jpg", 0, "american_bulldog")],
            test: [("Bombay_1.jpg", 1, "bombay"), ("english_cocker_spaniel_7.jpg", 2, "english_cocker_spaniel")],
            imageRoot: "oxford_pets/images");
        Directory.CreateDirectory(Temp("oxford_pets/annotations"));
    }

    [Fact]
    public void OxfordPetsFromDataParent()
    {
        Pets();
        var ds = DatasetRegistry.Get("oxford_pets").Read(Dir);
        Assert.Equal("oxford_pets", ds.Name);
        Assert.Equal(Temp("oxford_pets"), ds.Root);
        Assert.Equal(Temp("oxford_pets/images"), ds.ImageRoot);
        Assert.Equal(["american bulldog", "bombay", "english cocker spaniel"], ds.ClassNames);
        Assert.Equal(["a photo of a {}, a type of pet."], ds.Templates);
        Assert.Equal((4, 1, 2), (ds.Train.Count, ds.Val.Count, ds.Test.Count));
        AssertItem(ds.Train[0], "Bombay_12.jpg", 1, "bombay");
        AssertItem(ds.Train[3], "english_cocker_spaniel_1.jpg", 2, "english_cocker_spaniel");
        AssertItem(ds.Test[1], "english_cocker_spaniel_7.jpg", 2, "english_cocker_spaniel");
        Assert.Equal(Temp("oxford_pets/images/Bombay_1.jpg"), ds.PathOf(ds.Test[0]));
        Assert.False(ds.IsTestOnly);
    }

    [Fact]
    public void OxfordPetsFromDatasetFolderAndByDasslName()
    {
        Pets();
        var ds = DatasetRegistry.Get("OxfordPets").Read(Temp("oxford_pets"));
        Assert.Equal(Temp("oxford_pets"), ds.Root);
        Assert.Equal(3, ds.ClassNames.Count);
    }

    [Fact]
    public void Caltech101TakesNamesFromTheSplitFile()
    {
        // CoOp's released JSON was made by read_and_split_data with IGNORED + NEW_CNAMES: uppercase folders sort first,
        // Faces → label 0 'face', Leopards → 1 'leopard', Motorbikes → 2 'motorbike', accordion 3, airplanes → 4 'airplane'.
        Split("caltech-101/split_zhou_Caltech101.json",
            train: [("Faces/image_0001.jpg", 0, "face"), ("Leopards/image_0002.jpg", 1, "leopard"), ("Motorbikes/image_0003.jpg", 2, "motorbike"),
                    ("accordion/image_0004.jpg", 3, "accordion"), ("airplanes/image_0005.jpg", 4, "airplane")],
            val: [("airplanes/image_0006.jpg", 4, "airplane")],
            test: [("Faces/image_0007.jpg", 0, "face")],
            imageRoot: "caltech-101/101_ObjectCategories");
        var ds = DatasetRegistry.Get("caltech101").Read(Dir);
        Assert.Equal(["face", "leopard", "motorbike", "accordion", "airplane"], ds.ClassNames);
        Assert.Equal(Temp("caltech-101/101_ObjectCategories"), ds.ImageRoot);
        AssertItem(ds.Train[4], "airplanes/image_0005.jpg", 4, "airplane");
        Assert.Equal(["a photo of a {}."], ds.Templates);
        Assert.True(File.Exists(ds.PathOf(ds.Val[0])));
    }

    [Fact]
    public void Caltech101DoesNotRenameWhatTheSplitFileSays()
    {
        // With a split JSON present CoOp never applies NEW_CNAMES (only read_and_split_data does); a self-made JSON keeps its names.
        Split("caltech-101/split_zhou_Caltech101.json",
            train: [("airplanes/a.jpg", 0, "airplanes"), ("Faces/b.jpg", 1, "Faces")], val: [], test: [("airplanes/c.jpg", 0, "airplanes")],
            imageRoot: "caltech-101/101_ObjectCategories");
        Assert.Equal(["airplanes", "Faces"], DatasetRegistry.Get("Caltech101").Read(Temp("caltech-101")).ClassNames);
    }

    [Fact]
    public void EuroSatNamesAndTemplate()
    {
        Split("eurosat/split_zhou_EuroSAT.json",
            train: [("AnnualCrop/AnnualCrop_1.jpg", 0, "Annual Crop Land"), ("Forest/Forest_2.jpg", 1, "Forest"), ("SeaLake/SeaLake_3.jpg", 2, "Sea or Lake")],
            val: [("Forest/Forest_4.jpg", 1, "Forest")],
            test: [("SeaLake/SeaLake_5.jpg", 2, "Sea or Lake"), ("AnnualCrop/AnnualCrop_6.jpg", 0, "Annual Crop Land")],
            imageRoot: "eurosat/2750");
        var ds = DatasetRegistry.Get("EUROSAT").Read(Dir);
        Assert.Equal(["Annual Crop Land", "Forest", "Sea or Lake"], ds.ClassNames);
        Assert.Equal(["a centered satellite photo of {}."], ds.Templates);
        Assert.Equal(Temp("eurosat/2750"), ds.ImageRoot);
        AssertItem(ds.Test[1], "AnnualCrop/AnnualCrop_6.jpg", 0, "Annual Crop Land");
    }

    [Fact]
    public void StanfordCarsPathsAreRelativeToTheDatasetFolder()
    {
        Split("stanford_cars/split_zhou_StanfordCars.json",
            train: [("cars_train/00001.jpg", 0, "2012 AM General Hummer SUV"), ("cars_train/00002.jpg", 1, "2012 Acura RL Sedan")],
            val: [("cars_train/00003.jpg", 1, "2012 Acura RL Sedan")],
            test: [("cars_test/00001.jpg", 0, "2012 AM General Hummer SUV")],
            imageRoot: "stanford_cars");
        var ds = DatasetRegistry.Get("StanfordCars").Read(Dir);
        Assert.Equal(Temp("stanford_cars"), ds.ImageRoot);
        Assert.Equal(ds.Root, ds.ImageRoot);
        Assert.Equal(Temp("stanford_cars/cars_test/00001.jpg"), ds.PathOf(ds.Test[0]));
        Assert.Equal(["2012 AM General Hummer SUV", "2012 Acura RL Sedan"], ds.ClassNames);
    }

    [Fact]
    public void Ucf101UnderscoresBecomeSpacesInClassNamesOnly()
    {
        Split("ucf101/split_zhou_UCF101.json",
            train: [("Apply_Eye_Makeup/v_ApplyEyeMakeup_g08_c01.jpg", 0, "Apply_Eye_Makeup"), ("Archery/v_Archery_g08_c01.jpg", 1, "Archery")],
            val: [], test: [("Archery/v_Archery_g01_c01.jpg", 1, "Archery")], imageRoot: "ucf101/UCF-101-midframes");
        var ds = DatasetRegistry.Get("ucf101").Read(Dir);
        Assert.Equal(["Apply Eye Makeup", "Archery"], ds.ClassNames);
        AssertItem(ds.Train[0], "Apply_Eye_Makeup/v_ApplyEyeMakeup_g08_c01.jpg", 0, "Apply_Eye_Makeup");
        Assert.Equal(["a photo of a person doing {}."], ds.Templates);
    }

    [Theory]
    [InlineData("caltech101", "a photo of a {}.")]
    [InlineData("oxford_pets", "a photo of a {}, a type of pet.")]
    [InlineData("stanford_cars", "a photo of a {}.")]
    [InlineData("oxford_flowers", "a photo of a {}, a type of flower.")]
    [InlineData("food101", "a photo of {}, a type of food.")]
    [InlineData("fgvc_aircraft", "a photo of a {}, a type of aircraft.")]
    [InlineData("sun397", "a photo of a {}.")]
    [InlineData("dtd", "{} texture.")]
    [InlineData("eurosat", "a centered satellite photo of {}.")]
    [InlineData("ucf101", "a photo of a person doing {}.")]
    [InlineData("imagenet", "a photo of a {}.")]
    [InlineData("imagenetv2", "a photo of a {}.")]
    [InlineData("imagenet_sketch", "a photo of a {}.")]
    [InlineData("imagenet_a", "a photo of a {}.")]
    [InlineData("imagenet_r", "a photo of a {}.")]
    public void TemplatesAreCoopCustomTemplates(string name, string template) =>
        Assert.Equal(template, CoopDatasetInfo.Get(name).Template);

    [Theory]
    [InlineData("oxford_flowers", "oxford_flowers", "jpg", "split_zhou_OxfordFlowers.json")]
    [InlineData("food101", "food-101", "images", "split_zhou_Food101.json")]
    [InlineData("sun397", "sun397", "SUN397", "split_zhou_SUN397.json")]
    [InlineData("dtd", "dtd", "images", "split_zhou_DescribableTextures.json")]
    public void OtherSplitZhouLayouts(string name, string folder, string imageDir, string splitFile)
    {
        Split($"{folder}/{splitFile}", train: [("a/x.jpg", 0, "a_b"), ("c/y.jpg", 1, "c")], val: [("a/z.jpg", 0, "a_b")], test: [("c/w.jpg", 1, "c")],
            imageRoot: $"{folder}/{imageDir}");
        var ds = DatasetRegistry.Get(name).Read(Dir);
        Assert.Equal(Temp($"{folder}/{imageDir}"), ds.ImageRoot);
        Assert.Equal(["a b", "c"], ds.ClassNames);
        Assert.Same(DatasetRegistry.Get(name), DatasetRegistry.Detect(Temp(folder)));
    }

    void Aircraft(string trainLines)
    {
        Text("fgvc_aircraft/variants.txt", "707-320\nF-16A/B\nBoeing 717\n");
        Text("fgvc_aircraft/images_variant_train.txt", trainLines);
        Text("fgvc_aircraft/images_variant_val.txt", "1025794 707-320\n");
        Text("fgvc_aircraft/images_variant_test.txt", "2235412 Boeing 717\n0056978 F-16A/B\n");
        foreach (var id in new[] { "1025794", "2235412", "0056978", "1111111", "2222222", "3333333" })
            Image($"fgvc_aircraft/images/{id}.jpg");
    }

    [Fact]
    public void FgvcAircraftFromVariantFiles()
    {
        Aircraft("1111111 Boeing 717\n2222222 707-320\n3333333 F-16A/B\n");
        var ds = DatasetRegistry.Get("FGVCAircraft").Read(Dir);
        Assert.Equal(["707-320", "F-16A/B", "Boeing 717"], ds.ClassNames); // variants.txt order, not sorted
        Assert.Equal((3, 1, 2), (ds.Train.Count, ds.Val.Count, ds.Test.Count));
        AssertItem(ds.Train[0], "1111111.jpg", 2, "Boeing 717");
        AssertItem(ds.Test[1], "0056978.jpg", 1, "F-16A/B");
        Assert.Equal(Temp("fgvc_aircraft/images"), ds.ImageRoot);
        Assert.Equal(["a photo of a {}, a type of aircraft."], ds.Templates);
    }

    [Fact]
    public void FgvcAircraftUnknownVariantNamesFileAndLine()
    {
        Aircraft("1111111 Boeing 717\n2222222 Boeing 747-400\n");
        var e = Fails(() => DatasetRegistry.Get("fgvc_aircraft").Read(Dir));
        Assert.Equal(Temp("fgvc_aircraft/images_variant_train.txt"), e.File);
        Assert.Contains("line 2", e.Message);
        Assert.Contains("Boeing 747-400", e.Message);
    }

    [Fact]
    public void FgvcAircraftVariantWithoutTrainingImagesIsAnEmptyClass()
    {
        Aircraft("1111111 Boeing 717\n2222222 707-320\n");
        var e = Fails(() => DatasetRegistry.Get("fgvc_aircraft").Read(Dir));
        Assert.Contains("1 'F-16A/B'", e.Message);
        Assert.Contains("no training items", e.Message);
    }

    [Fact]
    public void MissingSplitFileSaysWhatToDownload()
    {
        Directory.CreateDirectory(Temp("dtd/images/banded"));
        var e = Fails(() => DatasetRegistry.Get("dtd").Read(Dir));
        Assert.Equal(Temp("dtd/split_zhou_DescribableTextures.json"), e.File);
        Assert.Contains("DATASETS.md", e.Message);
    }
}
