namespace Peft.Reporting.Plots;

/// <summary>Maps shots (log2) and accuracy to pixels inside the plot rectangle; x is padded by 0.35 octave on both sides.</summary>
sealed class PlotFrame(IReadOnlyList<int> shots, AxisTicks yAxis, float left, float top, float right, float bottom)
{
    readonly double _xMin = Math.Log2(shots.Min()) - 0.35, _xMax = Math.Log2(shots.Max()) + 0.35;

    public float X(int shot) => left + (float)((Math.Log2(shot) - _xMin) / (_xMax - _xMin)) * (right - left);

    public float Y(double value) => bottom - (float)((value - yAxis.Min) / (yAxis.Max - yAxis.Min)) * (bottom - top);
}
