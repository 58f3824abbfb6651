namespace Peft.Core;

/// <summary>An adaptation method: fits a classifier for one cell from the few-shot features and the frozen text tower.</summary>
public interface IAdaptationMethod
{
    IFeatureClassifier Fit(AdaptationContext context);
}
