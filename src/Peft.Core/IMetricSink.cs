namespace Peft.Core;

/// <summary>Where a method reports its training curve (loss per epoch, chosen hyperparameters, ...); the host forwards it to tracking.</summary>
public interface IMetricSink
{
    void Log(string name, double value, int step = 0);
}
