using System.CommandLine;
using Peft.Clip.Native;
using Peft.Data.Datasets;
using Peft.Data.Synthetic;
using Peft.Host.Experiments;
using Peft.Results;

namespace Peft.Cli.Commands;

/// <summary><c>peft plan</c>: the cells an experiment (or one shard) consists of, with their state, without running anything.</summary>
public static class PlanCommand
{
    public static Command Create()
    {
        var args = new ExperimentArguments();
        var command = new Command("plan", "Validate an experiment and list its cells (dataset × shots × seed × method) with their state: done, running (pid, host), interrupted, failed, pending.");
        args.AddTo(command);
        command.SetAction(parse =>
        {
            var (spec, shard) = args.Read(parse);
            var plan = new ExperimentPlan(spec);
            var cells = plan.CellsOf(shard);
            var leases = new CellLeases(spec.OutputDir);
            var states = new CellStates(new LocalResultStore(spec.OutputDir), null, null) { Leases = leases };
            int wDataset = Math.Max(7, cells.Select(c => c.Dataset.Length).DefaultIfEmpty(0).Max());
            int wMethod = Math.Max(6, cells.Select(c => c.Method.Length).DefaultIfEmpty(0).Max());
            var augment = spec.Methods.ToDictionary(m => m.Name, m => spec.AugmentationOf(m.Name));
            string Augment(string method) => augment[method].UsesViews ? augment[method].Transform.Name : "-";
            Console.WriteLine($"{"#",5}  {"dataset".PadRight(wDataset)}  {"shots",5}  {"seed",4}  {"method".PadRight(wMethod)}  {"grid",4}  {"augment",7}  state");
            var counts = new Dictionary<CellState, int>();
            var notDone = new List<ExperimentCell>();
            foreach (var cell in cells)
            {
                var state = states.Of(cell);
                counts[state] = counts.GetValueOrDefault(state) + 1;
                if (state != CellState.Done) notDone.Add(cell);
                int points = spec.Method(cell.Method).PointsFor(cell.Dataset).Count;
                Console.WriteLine($"{cell.Index + 1,5}  {cell.Dataset.PadRight(wDataset)}  {cell.Shots,5}  {cell.Seed,4}  {cell.Method.PadRight(wMethod)}  {points,4}  {Augment(cell.Method),7}  {Describe(state, cell)}");
            }
            Console.WriteLine();
            Console.WriteLine($"{spec.Name}: {cells.Count} cells" + (shard.IsAll ? "" : $" in shard {shard} (of {plan.Cells.Count})") + ": " +
                              string.Join(", ", Enum.GetValues<CellState>().Select(s => $"{counts.GetValueOrDefault(s)} {s.ToString().ToLowerInvariant()}")));
            Console.WriteLine($"protocol: {spec.Protocol}" + (spec.IsAsPublished ? $" — ORACLE: official selection rules, cells that read test/full-val data are tagged {ExperimentProtocol.OracleTag}=true and marked {ExperimentProtocol.OracleMark} in reports" : ""));
            Console.WriteLine("training transforms: " + string.Join(", ", augment.Values.Select(a => $"{a.Method}={a}")));
            foreach (var d in spec.Datasets.Where(d => d.Targets.Count > 0))
                Console.WriteLine($"shift: classifiers trained on {d.Name} are also tested on {string.Join(", ", d.Targets.Select(t => t.Name))} (classes mapped by name)");
            foreach (var d in spec.Datasets.Where(d => d.Transfer.Count > 0))
                Console.WriteLine($"transfer: classifiers trained on {d.Name} are also tested on {string.Join(", ", d.Transfer.Select(t => t.Name))} with their own classes (n/a for methods with per-class weights)");
            if (spec.IsBaseToNew)
                Console.WriteLine($"classes: {ExperimentClasses.BaseToNew} — each dataset's classes halved as Dassl's subsample_classes; methods train on the base half, " +
                                  "the host tests on base and new classes (n/a for methods with per-class weights), reports add the harmonic mean");
            foreach (var m in spec.Methods.Where(m => m.Name != m.Descriptor.Name))
                Console.WriteLine($"variant {m.Name}: {m.Descriptor.Name} with {VariantOptions(m.Points[0])}" +
                                  (m.IsGrid ? $" ({m.Points.Count} grid points)" : ""));
            foreach (var m in spec.Methods)
                foreach (var d in spec.Datasets)
                    if (m.PresetsFor(d.Name) is var presets && presets != "none") Console.WriteLine($"presets {m.Name} on {d.Name}: {presets}");
            // Data a reader creates on first use (the synthetic world) is made wherever the root resolves: say where, so
            // that a copied experiment file does not silently plan a second copy of the data.
            foreach (var d in spec.Datasets)
                if (DatasetRegistry.Get(d.Type).CreatesMissingRoot && !SyntheticTaskReader.IsGenerated(d.Root))
                    Console.WriteLine($"data: {d.Name} is not at {Path.GetFullPath(d.Root)} yet; it will be generated there on first use " +
                                      "(about 35 MB; point dataRoot at an existing world to reuse it)");
            Console.WriteLine($"results: {Path.Combine(spec.OutputDir, "results")}   tracking: {spec.Tracking.Uri} (experiment '{spec.Tracking.ExperimentName}')");
            int threads = ThreadBudget.Resolve(parse.GetValue(args.Threads));
            Console.WriteLine($"threads: {threads} (of {Environment.ProcessorCount} CPUs available; --threads or {ThreadBudget.EnvironmentVariable} to change)");
            if (notDone.Count > 0) ProjectedTime.Write(Console.Out, spec, notDone, CellCostLog.Default(), threads, shard);
            return 0;

            // The options the variant sets itself (grid axes aside), as logged.
            static string VariantOptions(GridPoint point)
            {
                var written = point.Section.Keys.Select(k => k.Split(':')[0]).ToHashSet(StringComparer.OrdinalIgnoreCase);
                var own = point.OptionValues.Where(o => written.Contains(o.Key) && !point.AxisValues.ContainsKey(o.Key)).Select(o => $"{o.Key}={o.Value}").ToList();
                return own.Count == 0 ? "its defaults" : string.Join(", ", own);
            }

            string Describe(CellState state, ExperimentCell cell) =>
                state == CellState.Running && leases.Holder(cell.Key) is { } holder ? $"running ({holder})" : state.ToString().ToLowerInvariant();
        });
        return command;
    }
}
