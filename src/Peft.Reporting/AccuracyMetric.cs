namespace Peft.Reporting;

/// <summary>The test accuracy a table or plot shows (both in percent).</summary>
public enum AccuracyMetric
{
    /// <summary>Top-1 accuracy over all test images: the main metric of CoOp / CLIP-Adapter / Tip-Adapter papers.</summary>
    Top1,
    /// <summary>Mean of per-class accuracies (the headline metric for imbalanced sets such as FGVC aircraft in some papers).</summary>
    MeanPerClass,
}
