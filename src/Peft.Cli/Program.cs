using System.CommandLine;
using Microsoft.Extensions.Logging;
using Peft.Cli;
using Peft.Cli.Commands;
using Peft.Clip.Native;
using Peft.Core.Diagnostics;
using Peft.Data.Datasets;
using Peft.Terminal;

// Diagnostics: PEFT_RAISE_SIGNAL=<n> makes the process kill itself with signal n before anything else, to check what
// ./peft reports after a native fault (tests/Peft.Tests/Cli/PeftWrapperTests.cs).
if (int.TryParse(Environment.GetEnvironmentVariable("PEFT_RAISE_SIGNAL"), out var signal)) NativeSignal.RaiseOnSelf(signal);
var verbose = new Option<bool>("--verbose")
{
    Description = "Show diagnostics (debug lines: native library, plugins, caches, retries) as well as warnings; also PEFT_VERBOSE=1",
    Recursive = true,
};
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
root.Options.Add(verbose);
var parsed = root.Parse(args);
// Libraries log through PeftLog; here it is filtered and drawn above the progress bars.
bool debug = parsed.GetValue(verbose) || Environment.GetEnvironmentVariable("PEFT_VERBOSE") is "1" or "true";
using var logging = LoggerFactory.Create(b => b.SetMinimumLevel(debug ? LogLevel.Debug : LogLevel.Information).AddProvider(new TerminalLoggerProvider()));
PeftLog.Factory = logging;
TorchNativeLoader.EnsureLoaded(); // usually done already, by Peft.Clip's module initializer
PeftLog.For("Peft.Cli").LogDebug("libLibTorchSharp.so: {Status}", TorchNativeLoader.Status);
// Our handler, not System.CommandLine's, reports failures: one line for bad input, a stack only for bugs.
return CliErrors.Run(() => parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false }));
