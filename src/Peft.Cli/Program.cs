using System.CommandLine;
using Peft.Cli;
using Peft.Cli.Commands;
using Peft.Clip.Native;
using Peft.Data.Datasets;

// Diagnostics: PEFT_RAISE_SIGNAL=<n> makes the process kill itself with signal n before anything else, to check what
// ./peft reports after a native fault (tests/Peft.Tests/Cli/PeftWrapperTests.cs).
if (int.TryParse(Environment.GetEnvironmentVariable("PEFT_RAISE_SIGNAL"), out var signal)) NativeSignal.RaiseOnSelf(signal);
TorchNativeLoader.EnsureLoaded();
var root = new RootCommand("Peft.Framework: compare parameter-efficient adaptation methods on a frozen CLIP.")
{
    EncodeCommand.Create(),
    new Command("data", "Inspect datasets, make few-shot splits, generate the synthetic world.")
    {
        DataCheckCommand.Create(),
        DataSplitCommand.Create(DatasetRegistry.Get),
        DataFeaturesCommand.Create(DatasetRegistry.Get),
        DataExportCellCommand.Create(),
        DataSynthCommand.Create(),
    },
    PlanCommand.Create(),
    RunCommand.Create(),
    ReportCommand.Create(),
    MethodsCommand.Create(),
    ModelsCommand.Create(),
    PretrainCommand.Create(),
    InfoCommand.Create(),
    TrackingSyncCommand.Create(),
};
// Our handler, not System.CommandLine's, reports failures: one line for bad input, a stack only for bugs.
return CliErrors.Run(() => root.Parse(args).Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false }));
