using Microsoft.Extensions.DependencyInjection;
using Peft.Core;

namespace Peft.Methods.Maple;

public sealed class MaplePlugin : IMethodPlugin
{
    public void Register(IServiceCollection services) =>
        services.AddEncoderMethod<MapleMethod, MapleOptions>("maple",
            "MaPLe: coupled deep prompts in both towers, image prompts projected from the text prompts (Khattak et al. 2023, trainers/maple.py) — encoder tier",
            options => new MapleMethod(options), TrainingAugmentation.Dassl); // MaPLe yaml INPUT.TRANSFORMS: random_resized_crop, random_flip
}
