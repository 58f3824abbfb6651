using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Peft.Core;

/// <summary>How a plugin registers its method (Hugging Face PEFT-style: a config type plus a registry entry).</summary>
public static class MethodRegistration
{
    /// <summary>
    /// Registers <typeparamref name="TMethod"/> under <paramref name="name"/>. Its options are bound from the method's
    /// configuration section (unknown keys are an error naming them and listing the valid ones) and validated before
    /// the method is constructed with them.
    /// </summary>
    /// <param name="augmentation">The official training transform (<see cref="MethodDescriptor.Augmentation"/>); null when the method reads no augmented views.</param>
    /// <param name="presets">Official per-dataset option values (<see cref="MethodDescriptor.Presets"/>).</param>
    /// <param name="asPublished">Official selection rules for the <c>as-published</c> protocol (<see cref="MethodDescriptor.AsPublished"/>).</param>
    public static IServiceCollection AddAdaptationMethod<TMethod, TOptions>(this IServiceCollection services, string name,
        string description, Func<TOptions, TMethod> create, TrainingAugmentation? augmentation = null,
        IReadOnlyList<OptionPreset>? presets = null, IReadOnlyList<OptionPreset>? asPublished = null)
        where TMethod : IAdaptationMethod
        where TOptions : class, IMethodOptions, new()
    {
        services.AddSingleton(new MethodDescriptor(name, description, typeof(TOptions),
            section => create(MethodOptionsBinder.Bind<TOptions>(name, section)))
        {
            Augmentation = augmentation, Presets = presets ?? [], AsPublished = asPublished ?? [],
        });
        return services;
    }

    /// <summary>
    /// Registers an encoder-level method (<see cref="Encoders.IEncoderAdaptationMethod"/>: it trains inside the towers)
    /// under <paramref name="name"/>; options are bound and validated as for <see cref="AddAdaptationMethod{TMethod,TOptions}"/>.
    /// </summary>
    /// <param name="augmentation">The official training transform: what <see cref="Encoders.ITrainingImages.Images"/> draws.</param>
    public static IServiceCollection AddEncoderMethod<TMethod, TOptions>(this IServiceCollection services, string name,
        string description, Func<TOptions, TMethod> create, TrainingAugmentation augmentation, IReadOnlyList<OptionPreset>? presets = null)
        where TMethod : Encoders.IEncoderAdaptationMethod
        where TOptions : class, Encoders.IEncoderMethodOptions, new()
    {
        services.AddSingleton(new MethodDescriptor(name, description, typeof(TOptions),
            _ => throw new InvalidOperationException($"method '{name}' trains inside the towers (encoder tier); the host builds it with CreateEncoder"))
        {
            CreateEncoder = section => create(MethodOptionsBinder.Bind<TOptions>(name, section)),
            Augmentation = augmentation, Presets = presets ?? [],
        });
        return services;
    }
}
