namespace Peft.Methods.LinearProbe;

/// <summary>
/// The sum of a float64 array in NumPy's order (<c>np.sum</c> / <c>ndarray.sum()</c> of a contiguous 1-d array, NumPy
/// 1.24 <c>DOUBLE_pairwise_sum</c>): blocks of 8192 (the ufunc buffer) added in turn, each summed pairwise — below 8
/// elements in order, up to 128 with 8 running sums combined as ((r0+r1)+(r2+r3))+((r4+r5)+(r6+r7)) then the rest in
/// order, above that split in two at a multiple of 8. Checked bit for bit against NumPy (LinearProbeTests).
/// </summary>
static class NumpySum
{
    const int BufferSize = 8192;
    const int BlockSize = 128;

    public static double Of(ReadOnlySpan<double> a)
    {
        double total = 0;
        for (int start = 0; start < a.Length; start += BufferSize)
            total += Pairwise(a.Slice(start, Math.Min(BufferSize, a.Length - start)));
        return total;
    }

    static double Pairwise(ReadOnlySpan<double> a)
    {
        int n = a.Length;
        if (n < 8)
        {
            double res = 0;
            for (int i = 0; i < n; i++) res += a[i];
            return res;
        }
        if (n <= BlockSize)
        {
            Span<double> r = stackalloc double[8];
            a[..8].CopyTo(r);
            int i = 8;
            for (; i < n - n % 8; i += 8)
                for (int j = 0; j < 8; j++) r[j] += a[i + j];
            double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
            for (; i < n; i++) res += a[i];
            return res;
        }
        int half = n / 2;
        half -= half % 8;
        return Pairwise(a[..half]) + Pairwise(a[half..]);
    }
}
