using System.Diagnostics;
using System.Globalization;
using System.Text;
using Peft.Core;
using Peft.Core.Encoders;
using Peft.Core.Tracking;
using Peft.Data.Datasets;
using Peft.Data.Splits;
using Peft.Data.Synthetic;
using Peft.Host.Methods;
using Peft.Terminal;
using Tensor = TorchSharp.torch.Tensor;
using Peft.Results;

namespace Peft.Host.Experiments;

/// <summary>
/// Runs an experiment's cells (or one shard's share) and logs them: one parent run per invocation, one child run per
/// cell. Per (dataset, shots, seed) group the split is made or loaded once and the feature cache filled once for all
/// methods; then each method is fitted (every grid point, selection on validation), evaluated on validation and
/// test by the host, and logged. Finished cells are skipped; see <see cref="CellStates"/> for crash recovery. Order
/// of a cell's writes: run created → state marker → params/metrics/artifacts → local result → run FINISHED → marker
/// removed; a crash anywhere leaves a state a rerun recognises.
/// </summary>
public sealed class ExperimentRunner(ExperimentSpec spec, IExperimentTracker tracker)
{
    public Shard Shard { get; init; } = Shard.All;
    /// <summary>Messages and progress bars (stderr in the CLI).</summary>
    public TextWriter Log { get; init; } = Console.Error;
    public Func<string, IDatasetReader> ResolveReader { get; init; } = DatasetRegistry.Get;
    public long MaxWeightsBytes { get; init; } = CellArtifacts.MaxWeightsBytes;
    /// <summary>Where finished cells' costs are recorded for projections (<c>peft plan</c>, the ETA); null records none.</summary>
    public CellCostLog? Costs { get; init; }

    static long Now => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
    readonly HashSet<(string Dataset, int Shots)> _shortWarned = [];
    /// <summary>Shift and transfer targets read and encoded during this run (by source and name), disposed when it ends.</summary>
    readonly Dictionary<(string Source, string Name), ShiftTarget> _targets = [];
    readonly Dictionary<(string Source, string Name), TransferTarget> _transfer = [];
    // MLflow's system tags of every run this runner opens (user, experiment file, its git commit: read once).
    readonly IReadOnlyDictionary<string, string> _contextTags = RunContextTags.For(spec.SourcePath);

    public RunSummary Run(CancellationToken cancel = default)
    {
        string? parentId = null;
        try
        {
            return Run(id => parentId = id, cancel);
        }
        catch (Exception e) when (parentId is not null)
        {
            // Every error exit (unreadable results, read-only output, disk full …) ends the parent it opened.
            EndWithError(parentId, e is OperationCanceledException && cancel.IsCancellationRequested ? RunStatus.Killed : RunStatus.Failed, e);
            throw;
        }
    }

    RunSummary Run(Action<string> parentOpened, CancellationToken cancel)
    {
        var plan = new ExperimentPlan(spec);
        var cells = plan.CellsOf(Shard);
        var store = new LocalResultStore(spec.OutputDir);
        var experimentId = tracker.GetOrCreateExperiment(spec.Tracking.ExperimentName);
        var started = DateTimeOffset.UtcNow;
        var invocation = $"{started:yyyyMMdd-HHmmss}-{Environment.ProcessId}";
        var parentName = $"{spec.Name} ({started.ToLocalTime():yyyy-MM-dd HH:mm:ss})" + (Shard.IsAll ? "" : $" shard {Shard}");
        EndParentsOfDeadInvocations(experimentId);
        // The parent run is opened when there is something to log under it: a rerun with every cell done adds none.
        string? parentId = null;
        string Parent()
        {
            if (parentId is not null) return parentId;
            parentId = tracker.CreateRun(experimentId, parentName, Now, new Dictionary<string, string>
            {
                [TrackingNames.ExperimentTag] = spec.Name, [TrackingNames.InvocationTag] = invocation, [TrackingNames.RoleTag] = "parent",
                [TrackingNames.ShardTag] = Shard.ToString(), [TrackingNames.CodeVersionTag] = CodeVersion.Current,
                [TrackingNames.ProcessTag] = ProcessIdentity.Current, [ExperimentProtocol.ProtocolTag] = spec.Protocol,
            }.Concat(_contextTags).ToDictionary());
            parentOpened(parentId);
            tracker.LogBatch(parentId, [], CommonParams(), new Dictionary<string, string>());
            LogExperimentFiles(parentId);
            return parentId;
        }

        using var overall = new ConsoleProgress(Shard.IsAll ? "cells" : $"cells (shard {Shard})", cells.Count, "cells", Log, Interactive);
        var states = new CellStates(store, tracker, experimentId) { Warn = overall.Message };
        var leases = new CellLeases(spec.OutputDir);
        var todo = new List<ExperimentCell>();
        int skipped = 0;
        var repair = new CellRepair(spec, store, tracker, experimentId, states) { Warn = overall.Message };
        var done = new List<ExperimentCell>();
        foreach (var cell in cells)
        {
            var state = states.Of(cell);
            if (state == CellState.Edited)
                overall.Message($"warning: {store.ResultPath(cell.Key)}: its values do not match their checksum (edited by hand or damaged)");
            // A result deleted or edited locally is rebuilt from the cell's FINISHED run, or else the cell is rerun.
            if (state == CellState.Edited || (state == CellState.Done && store.TryReadResult(cell.Key) is null))
                state = repair.RestoreResult(cell) ? CellState.Done : CellState.Pending;
            if (state == CellState.Done && store.TryReadResult(cell.Key) is { } finished && (finished.Result.New is not null) != spec.IsBaseToNew)
                throw new InvalidOperationException(
                    $"{store.ResultPath(cell.Key)}: this result was made with classes: {(spec.IsBaseToNew ? ExperimentClasses.All : ExperimentClasses.BaseToNew)}, " +
                    $"but the experiment now says classes: {spec.Classes}; give the experiment another output folder (\"output\") so the two protocols' results are not mixed");
            if (state == CellState.Done) { SettleFinished(cell, states, store, leases); skipped++; done.Add(cell); }
            else todo.Add(cell);
        }
        if (done.Count > 0)
        {
            if (repair.MapOfflineIds(done) is > 0 and var mapped) overall.Message($"{mapped} results now hold the run ids the MLflow server gave them (logged while it was unreachable)");
            if (repair.MayHaveMissingRuns(done)) repair.RecreateMissingRuns(done, Parent(), invocation, Shard.ToString());
        }
        overall.Message($"{spec.Name}: {cells.Count} cells{(Shard.IsAll ? "" : $" in shard {Shard}")}, {skipped} already done, {todo.Count} to run");
        overall.Report(skipped);

        var failures = new Dictionary<string, string>();
        var busy = new Dictionary<string, string>();
        int ran = 0;
        try
        {
            if (todo.Count > 0)
            {
                Parent();
                using var session = new BackboneSession(spec);
                var run = new InvocationState(plan.Cells.Count, session, experimentId, parentId!, invocation, store, overall, failures);
                EncoderTier.CheckLoaded(spec, session.Clip);
                session.Cache.Warn = overall.Message;
                var datasets = new Dictionary<string, ImageDataset>();
                // ETA from per-cell costs by method and shots (see RemainingTime), over the cells not done yet; before a
                // method's first cell finishes, from what it cost on this machine before (CostProjection).
                var history = Costs is null ? null : Projection(Costs, TorchSharp.torch.get_num_threads());
                var eta = new RemainingTime { Prior = history is null ? null : c => history.For(Costs!.MethodOf(spec, c), c.Dataset, c.Shots, PointsOf(c))?.Seconds };
                var left = todo.ToDictionary(c => c.Key);
                var groupsLeft = todo.Select(c => c.Group).ToHashSet();
                // Read when the bar is drawn, which a message from another thread can do: under the same lock as the updates.
                overall.Remaining = () => { lock (eta) return eta.For(left.Values.ToList(), groupsLeft.Count); };
                void Gone(ExperimentCell c) { lock (eta) left.Remove(c.Key); }
                foreach (var group in todo.GroupBy(c => c.Group))
                {
                    lock (eta) groupsLeft.Remove(group.Key);
                    cancel.ThrowIfCancellationRequested();
                    // The group's cells this process may run: another invocation of the experiment may hold some (a
                    // whole group when it got there first, so the two do not encode the same features).
                    var held = new List<(ExperimentCell Cell, CellLease Lease)>();
                    try
                    {
                        foreach (var cell in group)
                        {
                            var lease = leases.TryAcquire(cell.Key);
                            if (lease is null)
                            {
                                busy[cell.Key] = leases.Holder(cell.Key)?.ToString() ?? "another process";
                                overall.Message($"cell {cell.Index + 1} skipped: {cell.RunName} is being run by another invocation ({busy[cell.Key]})");
                                Gone(cell);
                                overall.Increment();
                            }
                            else if (store.TryReadResult(cell.Key) is not null)
                            {
                                // Finished by another invocation since this one looked.
                                lease.Dispose();
                                skipped++;
                                Gone(cell);
                                overall.Increment();
                            }
                            else held.Add((cell, lease));
                        }
                        if (held.Count == 0) continue;
                        CellGroup? cellGroup;
                        try
                        {
                            var prepare = Stopwatch.StartNew();
                            cellGroup = PrepareGroup(group.Key, held.Select(h => h.Cell.Method), session, datasets, overall, cancel);
                            lock (eta) eta.ObserveGroup(prepare.Elapsed.TotalSeconds);
                        }
                        catch (Exception e) when (e is not OperationCanceledException)
                        {
                            // The split or its features could not be made: every cell of the group fails with that reason.
                            foreach (var (cell, _) in held) { Fail(store, cell, null, e, failures, overall); Gone(cell); }
                            overall.Report(overall.Done + held.Count);
                            continue;
                        }
                        using (cellGroup)
                            foreach (var (cell, lease) in held)
                            {
                                cancel.ThrowIfCancellationRequested();
                                states.EndStaleRuns(cell);
                                var clock = Stopwatch.StartNew();
                                if (RunCell(cell, cellGroup, run, cancel))
                                {
                                    ran++;
                                    Costs?.Append(new CellCost(Costs.MethodOf(spec, cell), CellCostLog.BackboneKey(spec.Backbone), cell.Dataset, cell.Shots,
                                        PointsOf(cell), TorchSharp.torch.get_num_threads(), clock.Elapsed.TotalSeconds / PointsOf(cell), spec.Name));
                                }
                                lock (eta) eta.ObserveCell(cell.Method, cell.Shots, clock.Elapsed.TotalSeconds);
                                Gone(cell);
                                lease.Dispose();
                                overall.Increment();
                            }
                    }
                    finally
                    {
                        foreach (var (_, lease) in held) lease.Dispose();
                    }
                }
            }
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            if (parentId is not null) TryEnd(parentId, RunStatus.Killed);
            overall.Message($"interrupted: {ran} cells finished in this invocation; the cell in progress was logged KILLED. Run the same command again to resume.");
            return new RunSummary(ran, skipped, failures, Cancelled: true, parentId) { Busy = busy };
        }
        finally
        {
            foreach (var target in _targets.Values) target.Dispose();
            foreach (var target in _transfer.Values) target.Dispose();
            _targets.Clear();
            _transfer.Clear();
        }
        if (parentId is not null) tracker.EndRun(parentId, failures.Count == 0 ? RunStatus.Finished : RunStatus.Failed, Now);
        repair.MapOfflineIds(todo); // the server came back during the run: its ids now, not at the next run
        return new RunSummary(ran, skipped, failures, Cancelled: false, parentId) { Busy = busy };
    }

    /// <summary>
    /// A done cell whose marker shows a crash after its result was written gets its runs settled, under its lease: a
    /// cell another invocation is finishing right now is left to it.
    /// </summary>
    static void SettleFinished(ExperimentCell cell, CellStates states, LocalResultStore store, CellLeases leases)
    {
        if (store.TryReadMarker(cell.Key) is null) return;
        using var lease = leases.TryAcquire(cell.Key);
        if (lease is not null) states.SettleFinished(cell);
    }

    /// <summary>
    /// Parent runs left RUNNING by an invocation of this machine that was killed (SIGKILL, power loss) end KILLED.
    /// A parent from another machine may belong to a shard still running there, so it is left alone.
    /// </summary>
    void EndParentsOfDeadInvocations(string experimentId)
    {
        IReadOnlyList<TrackedRun> parents;
        try { parents = tracker.FindRuns(experimentId, TrackingNames.RoleTag, "parent"); }
        catch (TrackingException e) when (e.Transient)
        {
            Log.WriteLine($"warning: could not look for parent runs of killed invocations ({e.Message}); they stay RUNNING");
            return;
        }
        foreach (var run in parents)
            if (run.Status == RunStatus.Running && run.Tags.TryGetValue(TrackingNames.ProcessTag, out var process) && ProcessIdentity.IsGone(process))
                TryEnd(run.RunId, RunStatus.Killed);
    }

    bool Interactive => ReferenceEquals(Log, Console.Error) && !Console.IsErrorRedirected;

    CellGroup PrepareGroup((string Dataset, int Shots, int Seed) group, IEnumerable<string> methods, BackboneSession session,
        Dictionary<string, ImageDataset> datasets, ConsoleProgress overall, CancellationToken cancel)
    {
        var ds = spec.Dataset(group.Dataset);
        var dataset = Read(ds);
        // Shift targets: read, mapped to the source's classes and encoded once per run (their test split only).
        foreach (var t in ds.Targets)
            if (!_targets.ContainsKey((ds.Name, t.Name)))
                _targets[(ds.Name, t.Name)] = ShiftTarget.Create(t.Name, Read(t), dataset, ds.Name);
        foreach (var t in ds.Transfer)
            if (!_transfer.ContainsKey((ds.Name, t.Name)))
                _transfer[(ds.Name, t.Name)] = TransferTarget.Create(t.Name, Read(t));

        ImageDataset Read(DatasetSpec d)
        {
            if (datasets.TryGetValue(d.Name, out var read)) return read;
            var reader = ResolveReader(d.Type);
            if (reader is SyntheticTaskReader && !SyntheticTaskReader.IsGenerated(d.Root))
            {
                // The first use of the synthetic world renders its task images (35 MB): say where, and show it.
                overall.Message($"generating the synthetic world's task images into {Path.GetFullPath(d.Root)} (once; about 35 MB)");
                using var bar = new ConsoleProgress("synthetic world", null, "images", Log, Interactive);
                SyntheticTaskReader.EnsureWorld(d.Root, (done, total) => { bar.Total = total; bar.Report(done); });
            }
            return datasets[d.Name] = reader.Read(d.Root);
        }
        var split = CellData.Split(spec, dataset, group.Shots, group.Seed, m => overall.Message($"warning: {m}"));
        if (ShortClassNotice.Warning(group.Dataset, group.Shots, split) is { } shortWarning && _shortWarned.Add((group.Dataset, group.Shots)))
            overall.Message(shortWarning);
        var features = CellData.Features(spec, session, dataset, split, cancel);
        var transforms = CellInputs.TransformsOf(spec, methods);
        try
        {
            // Every method of the group reads these; encoding them here shows one bar per stage.
            Stage($"{group.Dataset} {group.Shots}-shot seed {group.Seed}: test", () => features.TestFeatures());
            Stage($"{group.Dataset} {group.Shots}-shot seed {group.Seed}: val", () => features.ValFeatures());
            Stage($"{group.Dataset} {group.Shots}-shot seed {group.Seed}: train", () => features.TrainFeatures());
            foreach (var t in ds.Targets)
                Stage($"shift target {t.Name}: test", () => _targets[(ds.Name, t.Name)].Features(session.Cache, session.Eval, cancel));
            foreach (var t in ds.Transfer)
                Stage($"transfer target {t.Name}: test", () => _transfer[(ds.Name, t.Name)].Features(session.Cache, session.Eval, cancel));
            if (spec.TrainViews > 0 && features is CachedTaskFeatures) // a features file brings its views
                foreach (var t in transforms) // once per training transform, shared by the methods that use it
                    Stage($"{group.Dataset} {group.Shots}-shot seed {group.Seed}: {spec.TrainViews} train views ({t.Transform.Name})",
                        () => features.TrainViews(session.Spec(t), spec.TrainViews));
            return spec.IsBaseToNew ? CellGroup.BaseToNew(dataset, split, features) : new CellGroup(dataset, split, features);
        }
        catch
        {
            features.Dispose();
            throw;
        }

        void Stage(string label, Action fill)
        {
            ConsoleProgress? bar = null;
            session.EncodeProgress = (done, total) => (bar ??= new ConsoleProgress($"encode {label}", total, "images", Log, Interactive)).Report(done);
            try { fill(); }
            finally
            {
                session.EncodeProgress = null;
                bar?.Dispose();
            }
        }
    }

    /// <summary>What every cell of one invocation shares: the grid's size, the loaded backbone, where results go (MLflow
    /// experiment and parent run, local store), the overall progress and the failures so far.</summary>
    int PointsOf(ExperimentCell cell) => spec.Method(cell.Method).PointsFor(cell.Dataset).Count;

    /// <summary>The projection of this experiment's backbone from a cost log (what <c>peft plan</c> prints).</summary>
    public CostProjection Projection(CellCostLog costs, int threads) => new(costs.Read(), CellCostLog.BackboneKey(spec.Backbone), threads);

    sealed record InvocationState(int TotalCells, BackboneSession Session, string ExperimentId, string ParentId, string Invocation,
        LocalResultStore Store, ConsoleProgress Overall, Dictionary<string, string> Failures);

    /// <summary>Runs and logs one cell of <paramref name="group"/>; false when it failed (recorded in the invocation's
    /// failures). Cancellation propagates.</summary>
    bool RunCell(ExperimentCell cell, CellGroup group, InvocationState run, CancellationToken cancel)
    {
        var (totalCells, session, experimentId, parentId, invocation, store, overall, failures) = run;
        var split = group.Split;
        var features = group.Features;
        var inputs = CellInputs.For(spec, session, cell, features);
        var method = inputs.Method;
        var tags = new Dictionary<string, string>
        {
            [TrackingNames.ParentRunId] = parentId, [TrackingNames.CellTag] = cell.Key, [TrackingNames.RoleTag] = "cell",
            [TrackingNames.ExperimentTag] = spec.Name, [TrackingNames.InvocationTag] = invocation, [TrackingNames.ShardTag] = Shard.ToString(),
            [TrackingNames.SplitHashTag] = split.Sha256, [TrackingNames.FeatureCacheKeyTag] = inputs.FeatureCacheKey,
            [TrackingNames.CodeVersionTag] = CodeVersion.Current, [ExperimentProtocol.ProtocolTag] = spec.Protocol,
        };
        if (ShortClassNotice.Tag(split) is { } shortClasses) tags[TrackingNames.ShortClassesTag] = shortClasses;
        foreach (var (key, value) in _contextTags) tags[key] = value;
        var runId = tracker.CreateRun(experimentId, cell.RunName, Now, tags);
        try
        {
            store.WriteMarker(new CellMarker(cell.Key, runId, CellMarker.Running, Environment.ProcessId, Environment.MachineName, DateTimeOffset.UtcNow));
        }
        catch (Exception e)
        {
            EndWithError(runId, RunStatus.Failed, e); // the output folder cannot be written: the run must not stay RUNNING
            throw;
        }
        // Printed once the run and its marker exist: from here on a kill leaves a cell a rerun repairs.
        overall.Message($"cell {cell.Index + 1}/{totalCells} start: {cell.RunName}");
        try
        {
            bool perCell = PeakMemory.Reset();
            double startMb = PeakMemory.ResidentMb();
            var task = new FewShotTask(cell.Dataset, group.ClassNames, group.Dataset.Templates, cell.Shots, cell.Seed);
            // The encoder tier: the method trains inside the towers on image batches, and its classifiers are scored on
            // the features of their own adapted towers (per cell, never cached), computed here by the host.
            var encoder = method.Descriptor.IsEncoderMethod
                ? new EncoderCellData(session.EncoderImages, session.Eval, group.Dataset, split, (features as ClassSubsetFeatures)?.Subset,
                    inputs.AugmentationSpec, session.EncoderModel, cancel)
                : null;
            // Per fitted classifier and image set (val, test, new classes, each target): its adapted towers' features.
            var adapted = new Dictionary<(IFeatureClassifier Classifier, string Set), Tensor>();
            string? frozenWeights = encoder is null ? null : EncoderCellData.PretrainedFingerprint(session.EncoderModel);
            Tensor AdaptedOf(IFeatureClassifier c, string set, Func<IReadOnlyList<string>> paths)
            {
                if (adapted.TryGetValue((c, set), out var known)) return known;
                using var bar = new ConsoleProgress($"encode {set} (adapted towers)", null, "images", Log, Interactive);
                return adapted[(c, set)] = encoder!.AdaptedFeatures((IEncoderClassifier)c, paths(), (done, total) => { bar.Total = total; bar.Report(done); });
            }
            Tensor ValOf(IFeatureClassifier c) => encoder is null ? features.ValFeatures() : AdaptedOf(c, "val", () => encoder.ValPaths);
            Tensor TestOf(IFeatureClassifier c) => encoder is null ? features.TestFeatures() : AdaptedOf(c, "test", () => encoder.TestPaths);
            Func<string, IReadOnlyList<string>, Tensor>? AdaptedFor(IFeatureClassifier c) =>
                encoder is null ? null : (set, paths) => AdaptedOf(c, set, () => paths);
            var fitPoint = encoder is null
                ? GridFit.FeatureLevel(method, (generator, sink) => new AdaptationContext
                {
                    Task = task, Features = inputs.Features, TextEncoder = session.TextEncoder, Tokenizer = session.Tokenizer,
                    TextEncoderIn = session.TextEncoderIn, Generator = generator, Metrics = sink, Cancellation = cancel, Oracle = inputs.Oracle,
                })
                : (point, generator, sink) =>
                {
                    var instance = method.Descriptor.CreateEncoder!(GridFit.Configuration(point));
                    try
                    {
                        var classifier = instance.Fit(new EncoderAdaptationContext
                        {
                            Task = task, Clip = session.EncoderModel, Tokenizer = session.Tokenizer, Train = encoder.Train, Validation = encoder.Validation,
                            Generator = generator, Metrics = sink, Cancellation = cancel,
                        });
                        if (EncoderCellData.PretrainedFingerprint(session.EncoderModel) != frozenWeights)
                        {
                            classifier.Dispose();
                            throw new InvalidOperationException($"method {method.Name} changed pretrained weights of the towers; they must stay " +
                                "bit-identical (an encoder-level method trains only the deltas of its TowerAdaptation). The model of this " +
                                "invocation is no longer the checkpoint: rerun to continue with the remaining cells.");
                        }
                        return classifier;
                    }
                    finally
                    {
                        (instance as IDisposable)?.Dispose();
                    }
                };
            ConsoleProgress? epochs = null;
            GridFit fit;
            try
            {
                fit = GridFit.Run(method, CellSeed.For(spec.Name, cell.Dataset, cell.Shots, cell.Seed, cell.Method), fitPoint,
                    ValOf, features.ValLabels, task.NumClasses,
                    step => (epochs ??= new ConsoleProgress($"fit {cell.Method}", null, "epochs", Log, Interactive)).Report(step),
                    cancel, spec.Ablation.Contains(cell.Method) && method.IsGrid
                        ? c => ClassifierEvaluation.Evaluate(c, TestOf(c), features.TestLabels, task.NumClasses) : null);
            }
            finally
            {
                epochs?.Dispose();
            }
            using (fit)
            {
                var clock = Stopwatch.StartNew();
                var test = ClassifierEvaluation.Evaluate(fit.Classifier, TestOf(fit.Classifier), features.TestLabels, task.NumClasses);
                if (frozenWeights is not null) inputs = inputs with { FrozenWeights = frozenWeights, EncoderDtype = session.EncoderDtype };
                double evalSeconds = fit.EvalSeconds + clock.Elapsed.TotalSeconds;
                double peakMb = PeakMemory.PeakMb();
                var result = new CellResult(cell.Dataset, cell.Shots, cell.Seed, cell.Method, test.Top1 * 100, test.MeanPerClass * 100,
                    fit.Validation.Top1 * 100, fit.FitSeconds, fit.Classifier.TrainableParameters, peakMb, fit.Selected.OptionValues)
                    {
                        Oracle = inputs.OracleUsed, Threads = TorchSharp.torch.get_num_threads(), LoadAverage = PeakMemory.LoadAverage(),
                        MemoryIncreaseMb = perCell && double.IsFinite(startMb) ? Math.Max(0, peakMb - startMb) : null,
                        Shift = ShiftOf(cell, fit.Classifier, session, AdaptedFor(fit.Classifier), cancel),
                        New = group.New is { } n
                            ? UnseenClassEvaluation.Evaluate(fit.Classifier, task with { ClassNames = group.NewClassNames! },
                                encoder is null ? n.TestFeatures()
                                    : AdaptedOf(fit.Classifier, "new-class test", () => encoder.TestPathsOf(n.Subset)),
                                n.TestLabels)
                            : null,
                        Transfer = TransferOf(cell, fit.Classifier, session, AdaptedFor(fit.Classifier), cancel),
                    };
                foreach (var t in adapted.Values) t.Dispose();
                LogCell(runId, cell, fit, test, result, evalSeconds, perCell, group, inputs);
                var ablation = AblationOf(cell, fit);
                if (ablation is not null) LogAblation(experimentId, runId, cell, ablation);
                store.WriteResult(new CellRecord(cell.Key, result, runId, experimentId, tracker.Uri, fit.Validation.MeanPerClass * 100,
                    evalSeconds, split.Sha256, inputs.FeatureCacheKey, DateTimeOffset.UtcNow) { ResultSha256 = CellResultHash.Of(result), Ablation = ablation });
                tracker.EndRun(runId, RunStatus.Finished, Now);
                store.DeleteMarker(cell.Key);
                overall.Message($"cell {cell.Index + 1} done: {cell.RunName}: test top-1 {result.TestTop1:F2}%, val {result.ValTop1:F2}%, fit {result.FitSeconds:F1} s");
                return true;
            }
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            TryEnd(runId, RunStatus.Killed);
            store.WriteMarker(new CellMarker(cell.Key, runId, CellMarker.Killed, Environment.ProcessId, Environment.MachineName, DateTimeOffset.UtcNow));
            throw;
        }
        catch (Exception e)
        {
            Fail(store, cell, runId, e, failures, overall);
            return false;
        }
    }

    void LogCell(string runId, ExperimentCell cell, GridFit fit, ClassifierEvaluation test, CellResult result, double evalSeconds, bool perCellPeak, CellGroup group,
        CellInputs inputs)
    {
        var split = group.Split;
        long now = Now;
        var metrics = new List<MetricPoint>
        {
            new(TrackingNames.TestTop1, result.TestTop1, now), new(TrackingNames.TestMeanPerClass, result.TestMeanPerClass, now),
            new(TrackingNames.ValTop1, fit.Validation.Top1 * 100, now), new(TrackingNames.ValMeanPerClass, fit.Validation.MeanPerClass * 100, now),
            new(TrackingNames.FitSeconds, fit.FitSeconds, now), new(TrackingNames.EvalSeconds, evalSeconds, now),
            new(TrackingNames.TrainableParameters, result.TrainableParameters, now), new(TrackingNames.PeakMemoryMb, result.PeakMemoryMb, now),
        };
        metrics.AddRange(result.RecordedCostMetrics().Select(m => new MetricPoint(m.Name, m.Value, now)));
        metrics.AddRange(result.ShiftMetrics().Select(m => new MetricPoint(m.Name, m.Value, now)));
        metrics.AddRange(result.UnseenClassMetrics().Select(m => new MetricPoint(m.Name, m.Value, now)));
        metrics.AddRange(fit.MethodMetrics);
        var parameters = CellParams.Of(spec, cell, fit.Selected.OptionValues);
        foreach (var (key, value) in inputs.Params()) parameters[key] = value;
        var tags = new Dictionary<string, string>(inputs.Tags())
        {
            ["peft.peak_memory"] = perCellPeak ? "per-cell VmHWM" : "process peak working set", [TrackingNames.ResultHashTag] = CellResultHash.Of(result),
        };
        if (result.NotApplicable() is { Count: > 0 } na) tags[ExperimentClasses.NotApplicableTag] = string.Join(",", na);
        var weights = CellArtifacts.Weights(fit.Classifier, Path.Combine(spec.OutputDir, "tmp"));
        if (weights is not null && weights.Length > MaxWeightsBytes) tags["peft.weights_not_logged"] = $"{weights.Length} bytes > {MaxWeightsBytes}";
        tracker.LogBatch(runId, metrics, parameters, tags);
        tracker.LogArtifact(runId, TrackingNames.SplitArtifact, Encoding.UTF8.GetBytes(split.ToJson()));
        tracker.LogArtifact(runId, TrackingNames.PerClassArtifact, CellArtifacts.PerClass(group.ClassNames, test, fit.Validation));
        if (fit.Points.Count > 1) tracker.LogArtifact(runId, TrackingNames.GridArtifact, CellArtifacts.Grid(fit));
        if (weights is not null && weights.Length <= MaxWeightsBytes) tracker.LogArtifact(runId, TrackingNames.WeightsArtifact, weights);
    }

    /// <summary>The fitted classifier on each shift target of the cell's dataset (null when it has none); the host evaluates, the method never sees them.</summary>
    /// <param name="adapted">For encoder-tier cells: features of (set name, image paths) through the classifier's adapted
    /// towers, used instead of the shared cache.</param>
    Dictionary<string, ShiftAccuracy>? ShiftOf(ExperimentCell cell, IFeatureClassifier classifier, BackboneSession session,
        Func<string, IReadOnlyList<string>, Tensor>? adapted, CancellationToken cancel)
    {
        var targets = spec.Dataset(cell.Dataset).Targets;
        if (targets.Count == 0) return null;
        return targets.ToDictionary(t => t.Name, t =>
        {
            var target = _targets[(cell.Dataset, t.Name)];
            var e = adapted is null ? target.Evaluate(classifier, session.Cache, session.Eval, cancel)
                : target.Evaluate(classifier, adapted($"shift {t.Name} test", target.TestPaths));
            return new ShiftAccuracy(e.Top1 * 100, e.MeanPerClass * 100);
        }, StringComparer.Ordinal);
    }

    /// <summary>The fitted classifier on each transfer target of the cell's dataset, through its target's class names (null when there are none).</summary>
    Dictionary<string, UnseenClassAccuracy>? TransferOf(ExperimentCell cell, IFeatureClassifier classifier, BackboneSession session,
        Func<string, IReadOnlyList<string>, Tensor>? adapted, CancellationToken cancel)
    {
        var targets = spec.Dataset(cell.Dataset).Transfer;
        if (targets.Count == 0) return null;
        return targets.ToDictionary(t => t.Name, t =>
        {
            var target = _transfer[(cell.Dataset, t.Name)];
            var testFeatures = adapted is null ? target.Features(session.Cache, session.Eval, cancel) : adapted($"transfer {t.Name} test", target.TestPaths);
            return UnseenClassEvaluation.Evaluate(classifier, target.Task(cell.Shots, cell.Seed), testFeatures, target.Labels);
        }, StringComparer.Ordinal);
    }

    static List<AblationPoint>? AblationOf(ExperimentCell cell, GridFit fit) =>
        fit.Points.All(p => p.Test is null) ? null
            : fit.Points.Select((p, i) => new AblationPoint(cell.Dataset, cell.Shots, cell.Seed, cell.Method, i, p.Point.AxisValues,
                p.Validation.Top1 * 100, p.Test!.Top1 * 100, p.FitSeconds, i == fit.SelectedIndex)).ToList();

    /// <summary>The ablation view in MLflow: one nested run per grid point under the cell's run (tag <c>peft.role = ablation-point</c>,
    /// which reports of cells ignore), with the point's values as params and its validation and test accuracy as metrics.</summary>
    void LogAblation(string experimentId, string cellRunId, ExperimentCell cell, IReadOnlyList<AblationPoint> points)
    {
        foreach (var p in points)
        {
            var tags = new Dictionary<string, string>
            {
                [TrackingNames.ParentRunId] = cellRunId, [TrackingNames.AblationOfTag] = cell.Key, [TrackingNames.RoleTag] = TrackingNames.AblationRole,
                [TrackingNames.ExperimentTag] = spec.Name, [TrackingNames.AblationSelectedTag] = p.Selected ? "true" : "false",
            };
            var id = tracker.CreateRun(experimentId, $"{cell.RunName} · {p.Label}", Now, tags);
            var parameters = new Dictionary<string, string>
            {
                [TrackingNames.Dataset] = cell.Dataset, [TrackingNames.Shots] = Text(cell.Shots), [TrackingNames.Seed] = Text(cell.Seed),
                [TrackingNames.Method] = cell.Method, [TrackingNames.AblationPointParam] = Text(p.Index),
            };
            foreach (var (key, value) in p.Values) parameters[TrackingNames.MethodOptionPrefix + key] = value;
            long now = Now;
            tracker.LogBatch(id, [new(TrackingNames.ValTop1, p.ValTop1, now), new(TrackingNames.TestTop1, p.TestTop1, now), new(TrackingNames.FitSeconds, p.FitSeconds, now)],
                parameters, new Dictionary<string, string>());
            tracker.EndRun(id, RunStatus.Finished, Now);
        }
    }

    void Fail(LocalResultStore store, ExperimentCell cell, string? runId, Exception e, Dictionary<string, string> failures, ConsoleProgress overall)
    {
        var message = $"{e.GetType().Name}: {e.Message}";
        failures[cell.Key] = message;
        overall.Message($"cell {cell.Index + 1} FAILED: {cell.RunName}: {message}");
        if (runId is not null)
        {
            try
            {
                tracker.LogBatch(runId, [], new Dictionary<string, string>(),
                    new Dictionary<string, string> { ["peft.error"] = message.Length > 1000 ? message[..1000] + "…" : message });
                tracker.LogArtifact(runId, "error.txt", Encoding.UTF8.GetBytes(e.ToString()));
            }
            catch (Exception x) when (x is TrackingException or IOException or UnauthorizedAccessException) { } // the run is still ended below
            TryEnd(runId, RunStatus.Failed);
        }
        store.WriteMarker(new CellMarker(cell.Key, runId, CellMarker.Failed, Environment.ProcessId, Environment.MachineName, DateTimeOffset.UtcNow, message));
    }

    void TryEnd(string runId, RunStatus status)
    {
        try { tracker.EndRun(runId, status, Now); }
        catch (Exception e) when (e is TrackingException or IOException or UnauthorizedAccessException) { } // the local marker still records the state
    }

    /// <summary>Best effort on the way out of an error: the error as tag <c>peft.error</c>, then the run ended.</summary>
    void EndWithError(string runId, RunStatus status, Exception error)
    {
        var message = $"{error.GetType().Name}: {error.Message}";
        try
        {
            tracker.LogBatch(runId, [], new Dictionary<string, string>(),
                new Dictionary<string, string> { ["peft.error"] = message.Length > 1000 ? message[..1000] + "…" : message });
        }
        catch (Exception e) when (e is TrackingException or IOException or UnauthorizedAccessException) { }
        TryEnd(runId, status);
    }

    /// <summary>The experiment file as written and the settings as resolved (after overrides), on the parent run.</summary>
    void LogExperimentFiles(string parentId)
    {
        if (File.Exists(spec.SourcePath))
            tracker.LogArtifact(parentId, "experiment/" + Path.GetFileName(spec.SourcePath), File.ReadAllBytes(spec.SourcePath));
        tracker.LogArtifact(parentId, "experiment/resolved.json", Encoding.UTF8.GetBytes(ResolvedExperiment.Json(spec, Shard)));
    }

    Dictionary<string, string> CommonParams() => new()
    {
        ["experiment_file"] = spec.SourcePath, [TrackingNames.Backbone] = spec.Backbone.Model, ["dtype"] = spec.Backbone.Dtype,
        ["preprocess"] = spec.Backbone.Preprocess, ["datasets"] = string.Join(",", spec.Datasets.Select(d => $"{d.Name}={d.Type}")),
        ["shots"] = string.Join(",", spec.Shots), ["seeds"] = string.Join(",", spec.Seeds), [TrackingNames.Sampling] = spec.Sampling,
        [TrackingNames.ValShots] = spec.ValShots is int v ? Text(v) : "min(shots,4)", [TrackingNames.TrainViews] = Text(spec.TrainViews),
        ["augmentation"] = string.Join(",", spec.Methods.Select(m => $"{m.Name}={spec.AugmentationOf(m.Name)}")),
        ["protocol"] = spec.Protocol, [ExperimentClasses.Param] = spec.Classes, ["methods"] = string.Join(",", spec.Methods.Select(m => m.Name)),
        ["cache"] = spec.CacheDir, ["output"] = spec.OutputDir, ["shard"] = Shard.ToString(),
    };

    static string Text(int v) => v.ToString(CultureInfo.InvariantCulture);
}
