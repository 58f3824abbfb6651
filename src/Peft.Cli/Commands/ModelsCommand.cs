using System.CommandLine;
using System.Globalization;
using Peft.Models;
using Peft.Terminal;

namespace Peft.Cli.Commands;

/// <summary><c>peft models pull &lt;name&gt;</c> and <c>peft models list</c>.</summary>
public static class ModelsCommand
{
    public static Command Create()
    {
        var models = new Command("models", "Download CLIP weights into the model cache and list what it holds.");
        models.Subcommands.Add(CreatePull());
        models.Subcommands.Add(CreateList());
        return models;
    }

    private static Option<string?> CacheDirOption() => new("--cache-dir")
    {
        Description = "Model cache folder (default: $PEFT_HOME/models, else $XDG_CACHE_HOME/peft/models, else ~/.cache/peft/models).",
    };

    private static Command CreatePull()
    {
        var name = new Argument<string>("name")
        {
            Description = "An OpenAI CLIP name (" + string.Join(", ", ModelCatalog.OpenAi.Select(m => m.Name)) +
                          ") or a Hugging Face model id such as openai/clip-vit-base-patch16.",
        };
        var cacheDir = CacheDirOption();
        var revision = new Option<string?>("--revision")
        {
            Description = "Hugging Face ids only: branch, tag or commit to download (default: main).",
        };
        var pull = new Command("pull",
            "Download a model (resumable, SHA-256 verified) and print its path for `peft encode --model`. " +
            "Environment: HF_TOKEN, HF_ENDPOINT, " + ModelPullOptions.OpenAiBaseUrlVariable + ", PEFT_HOME.");
        pull.Arguments.Add(name);
        pull.Options.Add(cacheDir);
        pull.Options.Add(revision);
        pull.SetAction(async (parseResult, invocationToken) =>
        {
            var modelName = parseResult.GetValue(name)!;
            var rev = parseResult.GetValue(revision);
            // Ctrl+C stops the download cleanly (the partial file stays for the next pull to resume); a second
            // Ctrl+C terminates at once.
            using var cancel = CancellationTokenSource.CreateLinkedTokenSource(invocationToken);
            ConsoleCancelEventHandler onCancel = (_, e) =>
            {
                if (cancel.IsCancellationRequested) return;
                e.Cancel = true;
                cancel.Cancel();
            };
            Console.CancelKeyPress += onCancel;
            var ct = cancel.Token;
            try
            {
                var source = ModelCatalog.Resolve(modelName, rev);
                if (source is OpenAiClipSource && rev is not null)
                    Console.Error.WriteLine("note: --revision applies to Hugging Face ids only; ignored.");
                var options = ModelPullOptions.FromEnvironment(parseResult.GetValue(cacheDir));
                using var puller = new ModelPuller(options,
                    progress: (label, total) => total is < 1 << 20 ? null : new ConsoleProgress(label, total, "B"),
                    log: Console.Error);
                var result = await puller.PullAsync(modelName, rev, ct);
                foreach (var f in result.Files)
                {
                    var what = f.AlreadyPresent ? "already present" : f.ResumedFrom > 0 ? "downloaded (resumed)" : "downloaded";
                    var check = f.Verified ? "verified" : "not verified: no checksum from the server";
                    Console.Error.WriteLine($"{Path.GetFileName(f.Path)}: {what}, {FormatBytes(f.Bytes)}, {check}");
                }
                if (result.Commit is not null) Console.Error.WriteLine($"commit: {result.Commit}");
                Console.Out.WriteLine(result.Path);
                return 0;
            }
            catch (UnknownModelException ex)
            {
                Console.Error.WriteLine($"error: {ex.Message}");
                return 2;
            }
            catch (ModelDownloadException ex)
            {
                Console.Error.WriteLine($"error: {ex.Message}");
                return 1;
            }
            catch (ArgumentException ex)
            {
                Console.Error.WriteLine($"error: {ex.Message}");
                return 2;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                Console.Error.WriteLine("cancelled; the partial download is kept and the next pull resumes it.");
                return 130;
            }
            catch (IOException ex)
            {
                Console.Error.WriteLine($"error: {ex.Message}");
                return 1;
            }
            catch (UnauthorizedAccessException ex)
            {
                Console.Error.WriteLine($"error: {ex.Message}");
                return 1;
            }
            finally
            {
                Console.CancelKeyPress -= onCancel;
            }
        });
        return pull;
    }

    private static Command CreateList()
    {
        var cacheDir = CacheDirOption();
        var list = new Command("list", "List the models in the cache, with sizes and unfinished downloads.");
        list.Options.Add(cacheDir);
        list.SetAction(parseResult =>
        {
            var root = ModelPullOptions.FromEnvironment(parseResult.GetValue(cacheDir)).CacheRoot;
            var entries = ModelCache.List(root);
            Console.Error.WriteLine($"cache: {root}");
            if (entries.Count == 0)
            {
                Console.Error.WriteLine("(empty; `peft models pull <name>` downloads a model)");
                return 0;
            }
            int width = entries.Max(e => e.Name.Length);
            foreach (var e in entries)
            {
                var size = e.Bytes > 0 ? FormatBytes(e.Bytes) : "-";
                var partial = e.PartialBytes > 0 ? $"  (+{FormatBytes(e.PartialBytes)} partial; pull again to resume)" : "";
                var status = e.Complete ? "" : "  incomplete";
                Console.Out.WriteLine($"{e.Name.PadRight(width)}  {size,10}  {e.Path}{status}{partial}");
            }
            return 0;
        });
        return list;
    }

    internal static string FormatBytes(long bytes) => bytes switch
    {
        >= 1L << 30 => (bytes / (double)(1L << 30)).ToString("0.00", CultureInfo.InvariantCulture) + " GB",
        >= 1L << 20 => (bytes / (double)(1L << 20)).ToString("0.0", CultureInfo.InvariantCulture) + " MB",
        >= 1L << 10 => (bytes / 1024.0).ToString("0.0", CultureInfo.InvariantCulture) + " KB",
        _ => bytes.ToString(CultureInfo.InvariantCulture) + " B",
    };
}
