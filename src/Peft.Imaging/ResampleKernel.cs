namespace Peft.Imaging;

/// <summary>
/// Per-output-pixel source windows and weights for one axis of a separable resize, computed the way
/// Pillow's Resample.c does (same double arithmetic, same rounding), so results can be bit-identical.
/// </summary>
internal sealed class ResampleKernel
{
    /// <summary>Pillow's fixed-point precision for 8-bit images: 32 bits minus 8 for the value minus 2 of headroom for overshoot.</summary>
    internal const int PrecisionBits = 32 - 8 - 2;

    /// <summary>Stride of <see cref="Weights"/> and <see cref="FixedWeights"/> per output pixel.</summary>
    public int Size { get; }

    /// <summary>First source index for each output pixel.</summary>
    public int[] First { get; }

    /// <summary>Number of source pixels used for each output pixel.</summary>
    public int[] Count { get; }

    /// <summary>Normalised weights (sum 1), <see cref="Size"/> per output pixel; unused tail is 0.</summary>
    public double[] Weights { get; }

    /// <summary>The weights scaled by 2^<see cref="PrecisionBits"/> and rounded half away from zero.</summary>
    public int[] FixedWeights { get; }

    ResampleKernel(int size, int[] first, int[] count, double[] weights)
    {
        Size = size;
        First = first;
        Count = count;
        Weights = weights;
        FixedWeights = new int[weights.Length];
        const double one = 1 << PrecisionBits;
        for (int i = 0; i < weights.Length; i++)
            FixedWeights[i] = weights[i] < 0 ? (int)(-0.5 + weights[i] * one) : (int)(0.5 + weights[i] * one);
    }

    public static double Support(ResampleFilter filter) => filter switch
    {
        ResampleFilter.Box => 0.5,
        ResampleFilter.Bilinear or ResampleFilter.Hamming => 1.0,
        ResampleFilter.Bicubic => 2.0,
        ResampleFilter.Lanczos => 3.0,
        _ => throw new ArgumentOutOfRangeException(nameof(filter), filter, "not a convolution filter"),
    };

    public static double Evaluate(ResampleFilter filter, double x)
    {
        switch (filter)
        {
            case ResampleFilter.Box:
                return x > -0.5 && x <= 0.5 ? 1.0 : 0.0;
            case ResampleFilter.Bilinear:
                x = Math.Abs(x);
                return x < 1.0 ? 1.0 - x : 0.0;
            case ResampleFilter.Hamming:
                x = Math.Abs(x);
                if (x == 0.0) return 1.0;
                if (x >= 1.0) return 0.0;
                x *= Math.PI;
                // Pillow writes the window constants as float literals; keep their float values.
                return Math.Sin(x) / x * ((double)0.54f + (double)0.46f * Math.Cos(x));
            case ResampleFilter.Bicubic:
            {
                const double a = -0.5;
                x = Math.Abs(x);
                if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
                if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
                return 0.0;
            }
            case ResampleFilter.Lanczos:
                return -3.0 <= x && x < 3.0 ? Sinc(x) * Sinc(x / 3) : 0.0;
            default:
                throw new ArgumentOutOfRangeException(nameof(filter), filter, "not a convolution filter");
        }
    }

    static double Sinc(double x)
    {
        if (x == 0.0) return 1.0;
        x *= Math.PI;
        return Math.Sin(x) / x;
    }

    /// <summary>
    /// Kernel mapping the source range [<paramref name="in0"/>, <paramref name="in1"/>) of an axis with
    /// <paramref name="inSize"/> pixels onto <paramref name="outSize"/> pixels. When shrinking, the filter is
    /// stretched by the scale factor (antialiasing), as in Pillow.
    /// </summary>
    public static ResampleKernel Create(int inSize, float in0, float in1, int outSize, ResampleFilter filter)
    {
        double scale = (double)(in1 - in0) / outSize;
        double filterScale = Math.Max(scale, 1.0);
        double support = Support(filter) * filterScale;
        int size = (int)Math.Ceiling(support) * 2 + 1;

        var first = new int[outSize];
        var count = new int[outSize];
        var weights = new double[checked(outSize * size)];
        double ss = 1.0 / filterScale;
        for (int xx = 0; xx < outSize; xx++)
        {
            double center = in0 + (xx + 0.5) * scale;
            // C casts truncate toward zero; the clamps below make that equal to rounding where it matters.
            int xmin = (int)(center - support + 0.5);
            if (xmin < 0) xmin = 0;
            int xmax = (int)(center + support + 0.5);
            if (xmax > inSize) xmax = inSize;
            xmax -= xmin;

            int row = xx * size;
            double sum = 0.0;
            for (int x = 0; x < xmax; x++)
            {
                double w = Evaluate(filter, (x + xmin - center + 0.5) * ss);
                weights[row + x] = w;
                sum += w;
            }
            if (sum != 0.0)
                for (int x = 0; x < xmax; x++) weights[row + x] /= sum;
            first[xx] = xmin;
            count[xx] = xmax;
        }
        return new ResampleKernel(size, first, count, weights);
    }
}
