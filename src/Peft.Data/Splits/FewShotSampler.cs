using Peft.Data.Datasets;

namespace Peft.Data.Splits;

/// <summary>How a manifest's train/val lists were obtained.</summary>
/// <remarks>
/// There is deliberately no second drawing procedure (such as a "balanced" one): Dassl's is already K per class (all items
/// when a class has fewer), and any other would only pick different subsets than the published CoOp/CLIP-Adapter/
/// Tip-Adapter runs used. CoOp's linear probe samples with numpy instead (reference §7); that is not reproduced here.
/// </remarks>
public enum SamplingMode
{
    /// <summary>Dassl/CoOp: <c>random.seed(seed)</c>, then train K-shot, then val <c>min(K, 4)</c>-shot (see <see cref="FewShotSampler"/>).</summary>
    Dassl,

    /// <summary>Taken as-is from an already few-shot CoOp-format split file (<see cref="SplitManifest.ImportCoOp"/>).</summary>
    Imported,
}

/// <summary>The sampling names written in manifests and typed on the command line.</summary>
public static class SamplingModes
{
    public static string ToName(this SamplingMode mode) => mode switch
    {
        SamplingMode.Dassl => "dassl",
        SamplingMode.Imported => "imported",
        _ => throw new ArgumentOutOfRangeException(nameof(mode)),
    };

    public static bool TryParse(string? name, out SamplingMode mode)
    {
        switch (name)
        {
            case "dassl":
                mode = SamplingMode.Dassl;
                return true;
            case "imported":
                mode = SamplingMode.Imported;
                return true;
            default:
                mode = default;
                return false;
        }
    }
}

/// <summary>
/// What to sample: <paramref name="Shots"/> (K ≥ 1) train items per class with Python seed <paramref name="Seed"/>;
/// <paramref name="ValShots"/> validation items per class, by default <c>min(K, 4)</c> as in CoOp. A value below 1
/// keeps the whole validation split unsampled and draws nothing for it (Dassl's <c>num_shots &lt; 1</c> case; use 0 to
/// reproduce CoOp's ImageNet, which samples train only).
/// </summary>
public sealed record FewShotRequest(int Shots, int Seed, SamplingMode Mode = SamplingMode.Dassl, int? ValShots = null)
{
    public int EffectiveValShots => ValShots ?? Math.Min(Shots, 4);

    public void Validate()
    {
        if (Shots < 1)
            throw new ArgumentException($"shots is {Shots}; it must be at least 1");
        if (Mode != SamplingMode.Dassl)
            throw new ArgumentException($"sampling mode '{Mode.ToName()}' cannot draw a split; only 'dassl' can");
    }
}

/// <summary>A class that had fewer items than requested in one split; all of its items were taken (Dassl's <c>repeat=False</c>).</summary>
public sealed record ShortClass(string Split, int Label, string ClassName, int Available, int Requested)
{
    public override string ToString() =>
        $"{Split}: class {Label} '{ClassName}' has {Available} item(s), {Requested} requested; all taken";
}

/// <summary>The sampled train and validation lists and the classes that fell short.</summary>
public sealed record FewShotResult(
    IReadOnlyList<DatasetItem> Train, IReadOnlyList<DatasetItem> Val, IReadOnlyList<ShortClass> ShortClasses);

/// <summary>
/// Few-shot sampling exactly as Dassl's <c>DatasetBase.generate_fewshot_dataset</c> (repeat=False) is called by CoOp's
/// datasets after <c>set_random_seed(seed)</c>, so the subsets equal the ones CoOp users trained on.
/// </summary>
/// <remarks>
/// Per list: items are grouped by label in order of each label's first appearance in the list (Dassl fills a
/// <c>defaultdict</c> in list order and iterates it in insertion order, not label order); for each group in that order,
/// <c>random.sample(group, K)</c> when the group has at least K items (the items in selection order), otherwise the whole
/// group in list order, which consumes no random numbers; the groups' picks are concatenated. One generator seeded once
/// serves the train list (K shots) and then the val list (<see cref="FewShotRequest.EffectiveValShots"/>). The test list
/// is never sampled.
/// </remarks>
public static class FewShotSampler
{
    public static FewShotResult Sample(ImageDataset dataset, FewShotRequest request)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        request.Validate();
        var rng = new PythonRandom(request.Seed);
        var shorts = new List<ShortClass>();
        var train = GenerateFewShot(rng, dataset.Train, request.Shots, "train", shorts);
        var val = GenerateFewShot(rng, dataset.Val, request.EffectiveValShots, "val", shorts);
        return new FewShotResult(train, val, shorts);
    }

    /// <summary>One call of Dassl's <c>generate_fewshot_dataset(items, num_shots=shots)</c> on an already-seeded generator;
    /// classes with fewer than <paramref name="shots"/> items are appended to <paramref name="shortClasses"/>.</summary>
    public static IReadOnlyList<DatasetItem> GenerateFewShot(
        PythonRandom rng, IReadOnlyList<DatasetItem> items, int shots, string splitName, List<ShortClass>? shortClasses = null)
    {
        if (shots < 1)
            return items.ToList();
        var output = new List<DatasetItem>();
        foreach (var group in GroupByLabelInFirstAppearanceOrder(items))
        {
            if (group.Count >= shots)
            {
                output.AddRange(rng.Sample(group, shots));
            }
            else
            {
                output.AddRange(group);
                shortClasses?.Add(new ShortClass(splitName, group[0].Label, group[0].ClassName, group.Count, shots));
            }
        }
        return output;
    }

    /// <summary>Dassl's <c>split_dataset_by_label</c>: groups in order of first appearance, items in list order.</summary>
    public static List<List<DatasetItem>> GroupByLabelInFirstAppearanceOrder(IReadOnlyList<DatasetItem> items)
    {
        var groups = new List<List<DatasetItem>>();
        var byLabel = new Dictionary<int, List<DatasetItem>>();
        foreach (var item in items)
        {
            if (!byLabel.TryGetValue(item.Label, out var group))
            {
                group = [];
                byLabel.Add(item.Label, group);
                groups.Add(group);
            }
            group.Add(item);
        }
        return groups;
    }
}
