using System.Diagnostics;
using Peft.Host.Plugins;
using Peft.Tests.Cli;

namespace Peft.Tests.Methods;

/// <summary>
/// The host checks which Peft.Core a plugin was built against before loading its types: another major version (or a
/// newer minor one) is refused with both versions named; the same major version loads.
/// </summary>
public sealed class PluginCompatibilityTests() : TempDirectory("peft-compat-")
{
    static readonly Version Host = PluginCompatibility.HostCoreVersion;

    [Fact]
    public void TheHostsPeftCoreHasTheVersionOfVersionProps()
    {
        var props = File.ReadAllText(Path.Combine(PeftProcess.Repository, "build", "Version.props"));
        var version = System.Text.RegularExpressions.Regex.Match(props, "<PeftVersion>([0-9.]+)</PeftVersion>").Groups[1].Value;
        Assert.Equal(Version.Parse(version), new Version(Host.Major, Host.Minor, Host.Build));
    }

    [Fact]
    public void VersionRules()
    {
        var host = new Version(1, 2, 0, 0);
        PluginCompatibility.Check("p.dll", new Version(1, 0, 0, 0), host);   // older minor: its API is still there
        PluginCompatibility.Check("p.dll", new Version(1, 2, 7, 0), host);   // newer patch
        PluginCompatibility.Check("p.dll", null, host);                       // does not reference Peft.Core
        var major = Assert.Throws<PluginCompatibilityException>(() => PluginCompatibility.Check("p.dll", new Version(2, 0, 0, 0), host));
        Assert.Contains("built against Peft.Core 2.0.0, but this peft has Peft.Core 1.2.0", major.Message);
        var older = Assert.Throws<PluginCompatibilityException>(() => PluginCompatibility.Check("p.dll", new Version(0, 9, 0, 0), host));
        Assert.Contains("Peft.Core 0.9.0", older.Message);
        var minor = Assert.Throws<PluginCompatibilityException>(() => PluginCompatibility.Check("p.dll", new Version(1, 3, 0, 0), host));
        Assert.Contains("built against Peft.Core 1.3.0, but this peft has Peft.Core 1.2.0", minor.Message);
    }

    /// <summary>
    /// A real plugin compiled against a fake Peft.Core whose assembly version is <paramref name="coreVersion"/> (the
    /// fake declares IMethodPlugin the same way the real one does, so only the version differs). Returns its folder.
    /// </summary>
    string BuildPluginAgainst(string coreVersion)
    {
        var root = Directory.CreateDirectory(Temp($"v{coreVersion}")).FullName;
        Directory.CreateDirectory(Path.Combine(root, "core"));
        Directory.CreateDirectory(Path.Combine(root, "plugin"));
        File.WriteAllText(Path.Combine(root, "core", "Peft.Core.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup><TargetFramework>net10.0</TargetFramework><AssemblyName>Peft.Core</AssemblyName><Version>{coreVersion}</Version></PropertyGroup>
              <ItemGroup><PackageReference Include="Microsoft.Extensions.DependencyInjection.Abstractions" Version="10.0.15" /></ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(root, "core", "Contract.cs"), """
            namespace Peft.Core;
            public interface IMethodPlugin { void Register(Microsoft.Extensions.DependencyInjection.IServiceCollection services); }
            """);
        File.WriteAllText(Path.Combine(root, "plugin", "Old.csproj"), """
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup><TargetFramework>net10.0</TargetFramework><EnableDynamicLoading>true</EnableDynamicLoading></PropertyGroup>
              <ItemGroup><ProjectReference Include="../core/Peft.Core.csproj" Private="false" ExcludeAssets="runtime" /></ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(root, "plugin", "OldPlugin.cs"), """
            public sealed class OldPlugin : Peft.Core.IMethodPlugin
            {
                public void Register(Microsoft.Extensions.DependencyInjection.IServiceCollection services) { }
            }
            """);
        var output = Path.Combine(root, "out");
        var psi = new ProcessStartInfo("dotnet", ["build", "-c", "Release", "-nologo", "-m:1", "-o", output]) { WorkingDirectory = Path.Combine(root, "plugin"), RedirectStandardOutput = true, RedirectStandardError = true };
        using var build = Process.Start(psi)!;
        var log = build.StandardOutput.ReadToEndAsync();
        var err = build.StandardError.ReadToEndAsync();
        build.WaitForExit();
        Assert.True(build.ExitCode == 0, log.Result + err.Result);
        File.Delete(Path.Combine(output, "Peft.Core.dll")); // as a host-provided assembly: not shipped with a plugin
        return output;
    }

    [Fact]
    public void APluginBuiltAgainstAnotherMajorVersionIsRefusedNamingBothAndTheSameMajorLoads()
    {
        var v2 = BuildPluginAgainst("2.0.0");
        Assert.Equal(new Version(2, 0, 0, 0), PluginCompatibility.ReferencedCoreVersion(Path.Combine(v2, "Old.dll")));
        var e = Assert.Throws<PluginCompatibilityException>(() => MethodCatalog.Load([v2], includeBuiltIn: false));
        string host = $"{Host.Major}.{Host.Minor}.{Host.Build}";
        Assert.Contains($"built against Peft.Core 2.0.0, but this peft has Peft.Core {host}", e.Message);
        Assert.Contains("Old.dll", e.Message);
        // Through the command line: one readable line, exit 1, not a type-load exception.
        var (code, _, stderr) = PeftProcess.Run("methods", "--plugins", v2);
        Assert.Equal(1, code);
        Assert.Contains($"error: {Path.Combine(v2, "Old.dll")}: built against Peft.Core 2.0.0, but this peft has Peft.Core {host}", stderr);
        Assert.DoesNotContain("TypeLoadException", stderr);

        // The same major version (an older patch of it): loaded, and its IMethodPlugin is the host's.
        var v1 = BuildPluginAgainst($"{Host.Major}.0.0");
        var catalog = MethodCatalog.Load([v1], includeBuiltIn: false);
        Assert.Equal([Path.Combine(v1, "Old.dll")], catalog.PluginFiles);
    }
}
