using Peft.Data.Synthetic;
using Peft.Tests.Host;

namespace Peft.Tests.Experiments;

/// <summary>
/// A temporary folder with what <c>peft run</c> tests need: a tiny synthetic world in <c>world/</c> (4 train, 2 val,
/// 3 test images per class, 32 px) and a small random ViT CLIP in <c>model.safetensors</c>.
/// </summary>
public abstract class TinyWorldDirectory : TempDirectory
{
    protected TinyWorldDirectory(string prefix) : base(prefix)
    {
        SyntheticWorld.Generate(Temp("world"), new SyntheticWorldOptions { PretrainCount = 0, TrainPerClass = 4, ValPerClass = 2, TestPerClass = 3, ImageSize = 32 });
        RandomClip.Save(Temp("model.safetensors"), RandomClip.SmallViT, seed: 5);
    }
}
