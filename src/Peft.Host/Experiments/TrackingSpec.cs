namespace Peft.Host.Experiments;

/// <summary>Where runs are logged: a tracking URI (an <c>mlruns</c> folder or an MLflow server) and the MLflow experiment name.</summary>
public sealed record TrackingSpec(string Uri, string ExperimentName);
