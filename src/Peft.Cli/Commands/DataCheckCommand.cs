using System.CommandLine;
using Peft.Data.Datasets;
using Peft.Terminal;

namespace Peft.Cli.Commands;

/// <summary>
/// <c>peft data check &lt;dataset-dir&gt; [--dataset NAME] [--no-decode]</c>: reads a dataset (guessing its kind from the
/// folder unless <c>--dataset</c> is given), prints its classes, split sizes and template, then checks that every image
/// exists and decodes. Exit code 0 when all is well, 1 otherwise (bad dataset files, missing or unreadable images).
/// </summary>
public static class DataCheckCommand
{
    public static Command Create()
    {
        var dirArg = new Argument<string>("dataset-dir")
        {
            Description = "The dataset folder, or CoOp's $DATA folder holding it (e.g. $DATA or $DATA/oxford_pets).",
        };
        var datasetOpt = new Option<string?>("--dataset")
        {
            Description = "Dataset name (" + string.Join(", ", DatasetRegistry.Names) + "); guessed from the folder when omitted.",
        };
        var noDecodeOpt = new Option<bool>("--no-decode")
        {
            Description = "Only check that the image files exist; do not decode them.",
        };
        var command = new Command("check", "Read a dataset, print a summary and verify that its images exist and decode.");
        command.Arguments.Add(dirArg);
        command.Options.Add(datasetOpt);
        command.Options.Add(noDecodeOpt);
        command.SetAction(parse =>
        {
            string dir = parse.GetValue(dirArg)!;
            string? name = parse.GetValue(datasetOpt);
            bool decode = !parse.GetValue(noDecodeOpt);
            ImageDataset dataset;
            try
            {
                var reader = name is null ? DatasetRegistry.Detect(dir) : DatasetRegistry.Get(name);
                dataset = reader.Read(dir);
            }
            catch (Exception e) when (e is DatasetFormatException or ArgumentException)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 1;
            }
            int total = DatasetChecker.DistinctFiles(dataset).Count;
            DatasetCheckReport report;
            using (var bar = new ConsoleProgress(decode ? "check images" : "check files", total, "images"))
                report = DatasetChecker.Check(dataset, decode, done => bar.Report(done));
            Console.Write(report.ToText(maxProblems: 20));
            return report.IsOk ? 0 : 1;
        });
        return command;
    }
}
