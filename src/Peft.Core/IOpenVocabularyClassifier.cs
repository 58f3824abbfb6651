namespace Peft.Core;

/// <summary>
/// A fitted classifier whose classes come from their names through the frozen text tower (zero-shot CLIP, prompt
/// learning, CLIP-Adapter), so its fitted parameters also classify classes it never saw: the new classes of CoCoOp's
/// base-to-new protocol and the classes of other datasets in cross-dataset transfer. The host asks for it only after
/// fitting and evaluates the result itself. Classifiers with learned per-class weights (linear probes, caches of
/// training features, per-class residuals) do not implement it; reports show them as not applicable there.
/// </summary>
public interface IOpenVocabularyClassifier
{
    /// <summary>
    /// A classifier over <paramref name="classes"/>' class names (in its label order, with its prompt templates), using
    /// the parameters fitted for the original classes; null when the fitted options make that impossible (e.g. CoOp's
    /// class-specific context). The caller disposes the result; it must not depend on this classifier being disposed later.
    /// </summary>
    IFeatureClassifier? ForClasses(FewShotTask classes);
}
