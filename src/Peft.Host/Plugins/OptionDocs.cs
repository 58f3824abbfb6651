using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace Peft.Host.Plugins;

/// <summary>
/// The XML documentation of an options record's properties, read from the <c>.xml</c> file the compiler writes beside
/// the plugin assembly (<c>GenerateDocumentationFile</c>), as plain one-line text for <c>peft methods</c>. A plugin
/// without that file simply has no descriptions.
/// </summary>
public static partial class OptionDocs
{
    /// <summary>Property name → description (empty when the assembly ships no documentation).</summary>
    public static IReadOnlyDictionary<string, string> For(Type optionsType)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        var location = optionsType.Assembly.Location;
        if (string.IsNullOrEmpty(location)) return result;
        var xmlPath = Path.ChangeExtension(location, ".xml");
        if (!File.Exists(xmlPath)) return result;
        XDocument doc;
        try { doc = XDocument.Load(xmlPath); }
        catch (Exception e) when (e is System.Xml.XmlException or IOException) { return result; }
        // Properties declared by a base record (Tip-Adapter-F's options extend Tip-Adapter's) are documented there.
        for (var type = optionsType; type is not null && type.Assembly == optionsType.Assembly; type = type.BaseType)
        {
            string prefix = $"P:{type.FullName}.";
            foreach (var member in doc.Descendants("member"))
            {
                var name = (string?)member.Attribute("name");
                if (name is null || !name.StartsWith(prefix, StringComparison.Ordinal) || member.Element("summary") is not { } summary) continue;
                result.TryAdd(name[prefix.Length..], PlainText(summary));
            }
        }
        return result;
    }

    /// <summary>A summary's text: <c>&lt;see cref="T.X"/&gt;</c> as X, <c>&lt;c&gt;</c> as its text, whitespace collapsed.</summary>
    static string PlainText(XElement summary)
    {
        var sb = new StringBuilder();
        foreach (var node in summary.DescendantNodes())
        {
            if (node is XText text && node.Parent?.Name != "see") sb.Append(text.Value);
            else if (node is XElement { Name.LocalName: "see" or "paramref" or "typeparamref" } see)
            {
                var target = (string?)see.Attribute("cref") ?? (string?)see.Attribute("name") ?? (string?)see.Attribute("langword") ?? see.Value;
                var simple = target[(target.LastIndexOf('.') + 1)..];
                sb.Append(see.Value.Length > 0 ? see.Value : simple.Length > 0 ? char.ToLowerInvariant(simple[0]) + simple[1..] : "");
            }
        }
        return Whitespace().Replace(sb.ToString(), " ").Trim();
    }

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
