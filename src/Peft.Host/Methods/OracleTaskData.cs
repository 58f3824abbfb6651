using Peft.Core;
using static TorchSharp.torch;

namespace Peft.Host.Methods;

/// <summary>
/// <see cref="IOracleData"/> of one cell, created by the host only under the <c>as-published</c> protocol. It records
/// whether a method read it, so exactly the cells whose selection used test (or full-validation) data are tagged
/// <c>peft.oracle=true</c> and marked in reports.
/// </summary>
public sealed class OracleTaskData(ICellFeatures features) : IOracleData
{
    int _used;

    /// <summary>Whether any member was read since construction (or the last <see cref="Reset"/>).</summary>
    public bool Used => Volatile.Read(ref _used) != 0;
    public void Reset() => Volatile.Write(ref _used, 0);

    public Tensor FullValFeatures() { Mark(); return features.FullValFeatures(); }
    public Tensor FullValLabels { get { Mark(); return features.FullValLabels; } }
    public Tensor TestFeatures() { Mark(); return features.TestFeatures(); }
    public Tensor TestLabels { get { Mark(); return features.TestLabels; } }

    void Mark() => Volatile.Write(ref _used, 1);
}
