using System.Text;

namespace Samsa.Protocol.Generator;

/// <summary>Indented text output with Unix newlines, so generated files are byte-identical on every OS.</summary>
internal sealed class CodeWriter
{
    private readonly StringBuilder _sb = new();
    private int _indent;

    public void Line(string text = "")
    {
        if (text.Length > 0)
            _sb.Append(' ', _indent * 4).Append(text);
        _sb.Append('\n');
    }

    public void Open(string text)
    {
        if (text.Length > 0)
            Line(text);
        Line("{");
        _indent++;
    }

    public void Close(string suffix = "")
    {
        _indent--;
        Line("}" + suffix);
    }

    public override string ToString() => _sb.ToString();
}
