#!/usr/bin/env python3
"""Write reference fixtures for Peft.Clip.Text.ClipTokenizer from the official CLIP tokenizer.

Usage (from the repository root)::

    git --git-dir=/work/.mirror/openai+CLIP/repo archive HEAD | tar -x -C /tmp/clip-src
    git --git-dir=/work/.mirror/rspeer+python-ftfy/repo archive HEAD | tar -x -C /tmp/ftfy-src
    /usr/bin/python3 tools/reference/make_tokenizer_fixtures.py \\
        --clip-src /tmp/clip-src --ftfy-src /tmp/ftfy-src \\
        [--out tests/Peft.Tests/Fixtures/tokenizer] \\
        [--entities-cs src/Peft.Clip/Text/Html5Entities.cs] \\
        [--tables-cs src/Peft.Clip/Text/PythonUnicodeTables.cs]

Needs the Debian packages python3-regex and python3-wcwidth (ftfy's only dependency).
Nothing from the two source trees is copied: they are imported from the given paths.
`clip/__init__.py` pulls in torch/torchvision, so `clip/simple_tokenizer.py` is loaded directly
and `clip.tokenize` (a dozen lines in clip/clip.py) is re-stated below on plain lists.

Outputs (JSON, one case per line so diffs stay readable):

* ``cases.json``   hand-written edge cases, each with category, text, normalized text
  (``whitespace_clean(basic_clean(text)).lower()``), ``ids`` (``encode``), ``row`` (the 77-id
  ``tokenize`` row, or null when too long), ``truncated`` (the ``truncate=True`` row),
  ``decoded`` (``decode(encode(text))``), and the same normalisation/ids computed with
  ftfy's mojibake repair switched off (``fix_encoding=False``), so a consumer that does not
  implement that heuristic can show exactly which cases depend on it.
* ``decode.json``  ``decode`` of hand-picked id lists (invalid/truncated UTF-8, special tokens).
* ``bulk.json``    ImageNet class names and sampled template prompts (BPE coverage).
* ``unicode.json`` the character classes the tokenizer relies on, as code point ranges,
  evaluated by the same Python/regex build: ``[\\p{L}]``, ``[\\p{N}]``, ``[^\\s\\p{L}\\p{N}]``
  (all IGNORECASE, as in the pre-tokeniser), regex ``\\s``, ``str.isspace`` (used by strip) and
  every code point whose ``str.lower()`` differs from itself.
* ``--tables-cs`` regenerates the C# copy of those tables (src/Peft.Clip/Text/PythonUnicodeTables.cs).
* ``--entities-cs`` regenerates the C# table of Python's ``html.entities.html5`` (the WHATWG list).
"""

import argparse
import html
import html.entities
import importlib.util
import json
import os
import random
import sys
import unicodedata

CONTEXT_LENGTH = 77


def load_tokenizer_module(clip_src):
    path = os.path.join(clip_src, "clip", "simple_tokenizer.py")
    spec = importlib.util.spec_from_file_location("clip_simple_tokenizer", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tokenize_row(tok, text, truncate):
    """clip.tokenize for one text on lists: None when too long and not truncating."""
    sot = tok.encoder["<|startoftext|>"]
    eot = tok.encoder["<|endoftext|>"]
    tokens = [sot] + tok.encode(text) + [eot]
    if len(tokens) > CONTEXT_LENGTH:
        if not truncate:
            return None
        tokens = tokens[:CONTEXT_LENGTH]
        tokens[-1] = eot
    return tokens + [0] * (CONTEXT_LENGTH - len(tokens))


LONG = ("a photo of a very large and extremely fluffy orange cat sitting on top of an old wooden "
        "table next to a window, with sunlight streaming in across the room and dust floating in the air; "
        "behind it, a bookshelf full of dusty books, a potted plant, two coffee mugs and a sleeping dog "
        "on a red carpet in 1987, 2001 and 2024!")


def hand_cases():
    c = []

    def add(category, *texts):
        for t in texts:
            c.append((category, t))

    add("empty", "", " ", "   \t\n  ", "\n\n")
    add("basic", "a photo of a cat.", "A Photo Of A Cat", "hello world", "HELLO", "x", "I", "a",
        "the quick brown fox jumps over the lazy dog",
        "supercalifragilisticexpialidocious", "pneumonoultramicroscopicsilicovolcanoconiosis")
    add("punctuation", "hello, world!", "wait... what?!", "(a) [b] {c} <d>", "e-mail: foo@bar.com",
        "https://example.com/a/b?c=d&e=f", "#hashtag @user $100 %50 ^_^ *star* ~tilde~ `code`",
        "!!!???...,,,;;;:::", "a--b__c==d++e", "\"double\" 'single'", "..'s", "!'s", "don't!",
        "C:\\path\\to\\file.txt", "1+1=2", "a/b\\c|d")
    add("digits", "2024", "3.14159", "1,000,000", "route 66", "x2", "2x", "007 agent", "10³", "½ cup",
        "٣ arabic-indic", "Ⅻ roman twelve", "①②③", "phone: +49 (0)30 123-456")
    add("contractions", "it's", "don't", "they're", "we've", "I'm", "we'll", "he'd",
        "IT'S", "DON'T", "THEY'RE", "WE'VE", "I'M", "WE'LL", "HE'D", "It'S", "'s", "'t", "''", "'",
        "rock 'n' roll", "the '90s", "o'clock", "can't won't shouldn't", "it'ſ", "y'all'd've",
        "'re'", "I'd've", "ma'am")
    add("accents", "café", "naïve résumé", "Ångström", "crème brûlée", "Zürich", "São Paulo",
        "Dvořák", "Łódź", "façade", "Ølstykke", "ÉCOLE", "Ame\u0301lie (combining accent)",
        "n\u0303", "e\u0301\u0301")
    add("german", "Straße", "STRASSE", "Grüße aus Köln", "ẞ capital sharp s", "Fußball")
    add("greek", "Ελληνικά", "ΟΔΥΣΣΕΥΣ", "ΣΑΣ", "Σ", "ΑΣ.", "ΑΣ'Β", "ΑΣ\u0301", "αΣβ", "Σα",
        "λόγος", "ΜΆΘΗΜΑ ΜΑΘΗΜΑΤΙΚΏΝ")
    add("cyrillic", "Привет, мир!", "МОСКВА", "Ёжик в тумане", "україна")
    add("turkish", "İstanbul", "IĞDIR", "ışık", "KELVIN \u212a")
    add("cjk", "猫", "我爱北京天安门", "猫が好きです", "東京タワー", "안녕하세요 세계", "漢字かなカナ")
    add("scripts", "مرحبا بالعالم", "שלום עולם", "नमस्ते दुनिया", "ภาษาไทย", "ሰላም", "ᚠᛇᚻ", "Ꭰ Cherokee")
    add("emoji", "🐶", "I ❤️ NY", "👍🏽 thumbs", "👨\u200d👩\u200d👧 family", "🇩🇪 flag", "😀😃😄",
        "cat🐱dog🐶", "★☆✓✔", "©®™", "→ ← ↑ ↓")
    add("html", "&amp;", "&lt;b&gt;bold&lt;/b&gt;", "it&#39;s", "&quot;quoted&quot;", "&amp;amp;",
        "&amp;amp;amp;", "&amp;lt;", "fish &amp chips", "&ampx", "&amp", "a &lt b", "&notit;", "&not",
        "&#x1F600;", "&#128512;", "&#0;", "&#x80;", "&#x85;", "&#xD800;", "&#1114112;", "&#65534;",
        "&#13;", "&#x3b;", "&#59", "&#x;", "&#;", "&NotAnEntity;", "&hellip;", "&nbsp;x&nbsp;",
        "P&EACUTE;REZ", "BUNDESSTRA&SZLIG;E", "&ntilde; &Ntilde; &NTILDE; &nTILDE;", "&checkmark;",
        "&Jscr;ohn &HilbertSpace;ancock", "&fflig;&FFLIG;", "&NAPOS;", "AT&T", "a&b", "&",
        "&&amp;&", "&#x41;&#X42;&#67;", "&#000065;", "&#99999999999999999999;", "&lt;3", "tom&jerry;",
        "x < y &amp; z", "P&EACUTE;REZ\nx < y", "x < y\nP&EACUTE;REZ", "&eacute; < &EACUTE;",
        "&#x2019;&#8220;", "&frac12;", "&ThickSpace;x")
    add("whitespace", "a\tb", "a\nb", "a\r\nb", "a\rb", "a  b", "  leading", "trailing  ",
        "a\u00a0b", "a\u2003b", "a\u3000b", "a\u2028b", "a\u2029b", "a\x85b", "a\x0bb\x0cc",
        "a\u200bb", "a\u200db", "a\u180eb", "a\x1cb\x1fc", "a\u205fb\u202fc", "\u00a0\u00a0x\u00a0\u00a0")
    add("quotes", "\u201cquoted\u201d", "\u2018single\u2019", "it\u2019s", "\u201ehigh\u201f", "\u02bcx",
        "\u201bx", "«guillemets»", "‹x›", "\u2032prime\u2033", "it\u2019S")
    add("ligatures", "ﬁne ﬂower", "oﬀ", "ﬃ ﬄ", "ﬅ ﬆ", "Ĳssel ĳs", "ŉ", "Ǳ ǲ ǳ Ǆ ǅ ǆ", "Ǉ ǈ ǉ Ǌ ǋ ǌ",
        "æsir Œuvre", "Broken text&hellip; it&#x2019;s ﬂubberiﬁc!")
    add("width", "ＬＯＵＤ　ＮＯＩＳＥＳ", "ｆｕｌｌｗｉｄｔｈ １２３", "Ｕﾀｰﾝ", "ｳﾙﾄﾗﾏﾝ", "ﾊﾟﾊﾞ",
        "！？＃＄％", "ￂￃ ﾡ", "￠￡￢￣￤￥￦", "￨￩￪￫￬￭￮")
    add("control", "\x00a\x07b", "\ufeffhello", "a\x1b[31mred\x1b[0mb", "\x1b[1;32mgreen",
        "a\x7fb", "a\u206ab", "a\ufffcb", "a\ufff9b\ufffbc", "a\ufffdb", "a\x80b", "a\x81b", "\x9d\x9e",
        "a\u00adb", "tab\there")
    add("surrogates_pair", "\ud83d\udca9 as code points")
    add("normalization", "\u212b", "\u1100\u1161\u11a8", "\u0041\u030a", "\u2126", "ﬁ\u0301", "Å",
        "\u0344", "\u0958", "a\u0345b", "!\u0345!", "\u0399\u0345")
    add("special_tokens", "<|startoftext|>", "<|endoftext|>", "<|startoftext|>hello<|endoftext|>",
        "<|ENDOFTEXT|>", "<|EndOfText|>x", "a<|endoftext|>b", "<|endoftext|", "<|endoftext|>>",
        "<|startoftext|><|startoftext|>", "< |endoftext|>", "<|\u017ftartoftext|>")
    add("mojibake", "sÃ³", "âœ” No problems", "schÃ¶n", "voilÃ le travail", "Ã©tÃ©",
        "â€œquotedâ€\x9d", "&macr;\\_(ã\x83\x84)_/&macr;", "The Mona Lisa doesnÃ¢â‚¬â„¢t have eyebrows.",
        "ÐŸÑ€Ð¸Ð²ÐµÑ‚", "Ã\xa0 la mode", "l’Ã©cole", "\x80 euro", "caf\x82", "Ã¡")
    # Over-long texts: 75 BPE ids fit (75 + 2 = 77), 76 do not.
    add("long", LONG, LONG + " " + LONG, "a " * 75, "a " * 76, "a " * 200, "1" * 75, "1" * 76,
        "🐶" * 40, "ÿ" * 100)
    return c


def bulk_cases(data_dir):
    with open(os.path.join(data_dir, "imagenet.json"), encoding="utf-8") as f:
        d = json.load(f)
    classes, templates = d["imagenet_classes"], d["imagenet_templates_80"]
    rng = random.Random(20240601)
    out = [("imagenet_class", name) for name in classes]
    for _ in range(400):
        out.append(("imagenet_prompt", rng.choice(templates).format(rng.choice(classes))))
    for t in templates:
        out.append(("imagenet_template", t))
    return out


def decode_cases(tok):
    """decode() of raw byte-symbol ids, including invalid and truncated UTF-8 (decoded with errors="replace")."""
    def byte_ids(data, end_of_word=False):
        ids = [tok.encoder[tok.byte_encoder[b]] for b in data]
        if end_of_word and ids:
            ids[-1] = tok.encoder[tok.byte_encoder[data[-1]] + "</w>"]
        return ids

    samples = [b"abc", "caf\u00e9".encode(), "\u732b".encode()[:2], b"\xff", b"\xc0\x80", b"\xed\xa0\x80",
               b"\xf4\x90\x80\x80", b"\xe2\x82", b"a\x80b", "\U0001f436".encode()[:3] + b"x",
               b"\xf0\x9f\x90", b"\xc3"]
    out = [{"ids": byte_ids(d, eow), "decoded": None} for d in samples for eow in (False, True)]
    out.append({"ids": [tok.encoder["<|startoftext|>"]] + tok.encode("hi there") + [tok.encoder["<|endoftext|>"]],
                "decoded": None})
    out.append({"ids": tok.encode("\u732b\u304c")[:1], "decoded": None})
    for case in out:
        case["decoded"] = tok.decode(case["ids"])
    return out


def make_case(tok, mod, ftfy, category, text, with_ftfy=False):
    def normalize():
        return mod.whitespace_clean(mod.basic_clean(text)).lower()

    case = {"category": category, "text": text, "normalized": normalize(), "ids": tok.encode(text),
            "row": tokenize_row(tok, text, False), "truncated": None,
            "decoded": tok.decode(tok.encode(text))}
    if case["row"] is None:
        case["truncated"] = tokenize_row(tok, text, True)
    if with_ftfy:
        case["ftfy"] = ftfy.fix_text(text)
        case["ftfy_no_fix_encoding"] = ftfy.fix_text(text, fix_encoding=False)
        case["html_unescape"] = html.unescape(text)
    # The same pipeline with ftfy's encoding-guessing heuristic disabled.
    original = mod.ftfy.fix_text
    mod.ftfy.fix_text = lambda t: original(t, fix_encoding=False)
    try:
        case["normalized_no_fix_encoding"] = normalize()
        case["ids_no_fix_encoding"] = tok.encode(text)
    finally:
        mod.ftfy.fix_text = original
    return case


def write_cases(path, cases):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write("[\n")
        for i, case in enumerate(cases):
            f.write(json.dumps(case, ensure_ascii=True, separators=(",", ":")))
            f.write(",\n" if i + 1 < len(cases) else "\n")
        f.write("]\n")


def ranges(predicate):
    out, start = [], None
    for cp in range(0x110000):
        ok = not (0xD800 <= cp <= 0xDFFF) and predicate(chr(cp))
        if ok and start is None:
            start = cp
        elif not ok and start is not None:
            out.append([start, cp - 1])
            start = None
    if start is not None:
        out.append([start, 0x10FFFF])
    return out


def unicode_tables(regex):
    letter = regex.compile(r"[\p{L}]", regex.IGNORECASE)
    number = regex.compile(r"[\p{N}]", regex.IGNORECASE)
    other = regex.compile(r"[^\s\p{L}\p{N}]", regex.IGNORECASE)
    space = regex.compile(r"\s")
    lower = []
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        ch = chr(cp)
        if ch.lower() != ch:
            lower.append([cp, [ord(x) for x in ch.lower()]])
    return {
        "python": sys.version.split()[0], "unidata_version": unicodedata.unidata_version,
        "regex_version": regex.__version__,
        "letter_icase": ranges(lambda ch: letter.fullmatch(ch) is not None),
        "number_icase": ranges(lambda ch: number.fullmatch(ch) is not None),
        "other_icase": ranges(lambda ch: other.fullmatch(ch) is not None),
        "regex_space": ranges(lambda ch: space.fullmatch(ch) is not None),
        "isspace": ranges(lambda ch: ch.isspace()),
        # str.lower() maps U+03A3 to final sigma by context: after a cased letter (skipping
        # case-ignorable ones) and not before one. Both properties, recovered from lower() itself:
        "sigma_cased": ranges(lambda ch: (ch + "\u03a3").lower()[-1] == "\u03c2"),
        "sigma_case_ignorable": ranges(lambda ch: (ch + "\u03a3").lower()[-1] != "\u03c2"
                                       and ("a\u03a3" + ch + "a").lower()[1] != "\u03c2"),
        "lower": lower,
    }


def write_tables_cs(path, tables):
    """The tables of unicode.json as a C# source file (ranges as `START-END` hex, lower as `CP:HEX HEX`)."""
    def fmt_ranges(rs):
        return " ".join("%X" % a if a == b else "%X-%X" % (a, b) for a, b in rs)

    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write("// <auto-generated>\n")
        f.write("// Generated by tools/reference/make_tokenizer_fixtures.py --tables-cs from Python %s\n"
                % tables["python"])
        f.write("// (unicodedata %s, regex %s). Do not edit.\n" % (tables["unidata_version"], tables["regex_version"]))
        f.write("// </auto-generated>\n\nnamespace Peft.Clip.Text;\n\n")
        f.write("/// <summary>Character classes and case mappings of the reference Python, as code point ranges.</summary>\n")
        f.write("internal static class PythonUnicodeTables\n{\n")
        for key, name in [("letter_icase", "Letter"), ("number_icase", "Number"), ("other_icase", "Other"),
                          ("regex_space", "RegexSpace"), ("isspace", "IsSpace"),
                          ("sigma_cased", "SigmaCased"), ("sigma_case_ignorable", "SigmaCaseIgnorable")]:
            f.write('    internal const string %s = "%s";\n\n' % (name, fmt_ranges(tables[key])))
        lower = " ".join("%X:%s" % (cp, ".".join("%X" % x for x in to)) for cp, to in tables["lower"])
        f.write('    internal const string Lower = "%s";\n}\n' % lower)


def write_entities_cs(path):
    """Python's html.entities.html5 as a C# string: `name<TAB>hex code points[<TAB>upper]` lines.

    The third column is Python's str.upper() of the value, given for all-lowercase names ending in
    ';' (ftfy also decodes the upper-cased spelling of those, as value.upper()).
    """
    lines = []
    for name, value in sorted(html.entities.html5.items()):
        cols = [name, " ".join("%X" % ord(ch) for ch in value)]
        if name.endswith(";") and name == name.lower():
            cols.append(" ".join("%X" % ord(ch) for ch in value.upper()))
        lines.append("\t".join(cols))
    body = "\n".join(lines)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write("// <auto-generated>\n")
        f.write("// Generated by tools/reference/make_tokenizer_fixtures.py --entities-cs from Python %s\n"
                % sys.version.split()[0])
        f.write("// html.entities.html5 (the WHATWG named character reference list). Do not edit.\n")
        f.write("// </auto-generated>\n\nnamespace Peft.Clip.Text;\n\n")
        f.write("/// <summary>The HTML5 named character references: name, value and Python upper-case value.</summary>\n")
        f.write("internal static class Html5Entities\n{\n")
        f.write("    /// <summary>Lines of <c>name\\tHEX HEX[\\tHEX HEX]</c>; see the generator.</summary>\n")
        f.write('    internal const string Table = """\n')
        f.write(body)
        f.write('\n""";\n}\n')


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clip-src", required=True, help="checkout of openai/CLIP (contains clip/simple_tokenizer.py)")
    ap.add_argument("--ftfy-src", required=True, help="checkout of rspeer/python-ftfy (contains ftfy/)")
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    ap.add_argument("--out", default=os.path.join(root, "tests", "Peft.Tests", "Fixtures", "tokenizer"))
    ap.add_argument("--data", default=os.path.join(root, "data", "clip"))
    ap.add_argument("--entities-cs", default=None, help="also write the C# HTML5 entity table here")
    ap.add_argument("--tables-cs", default=None, help="also write the C# character tables here")
    args = ap.parse_args()

    sys.path.insert(0, os.path.abspath(args.ftfy_src))
    import ftfy  # noqa: E402  (from --ftfy-src)
    import regex  # noqa: E402

    mod = load_tokenizer_module(os.path.abspath(args.clip_src))
    tok = mod.SimpleTokenizer(os.path.join(args.data, "bpe_simple_vocab_16e6.txt.gz"))
    os.makedirs(args.out, exist_ok=True)

    meta = {"python": sys.version.split()[0], "ftfy": ftfy.__version__, "regex": regex.__version__,
            "context_length": CONTEXT_LENGTH}
    hand = [make_case(tok, mod, ftfy, cat, t, with_ftfy=True) for cat, t in hand_cases()]
    bulk = [make_case(tok, mod, ftfy, cat, t) for cat, t in bulk_cases(args.data)]
    write_cases(os.path.join(args.out, "cases.json"), hand)
    write_cases(os.path.join(args.out, "bulk.json"), bulk)
    with open(os.path.join(args.out, "meta.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=1)
    write_cases(os.path.join(args.out, "decode.json"), decode_cases(tok))
    tables = unicode_tables(regex)
    with open(os.path.join(args.out, "unicode.json"), "w", encoding="utf-8") as f:
        json.dump(tables, f, separators=(",", ":"))
    if args.tables_cs:
        write_tables_cs(args.tables_cs, tables)
    if args.entities_cs:
        write_entities_cs(args.entities_cs)

    moji = sum(1 for c in hand + bulk if c["ids"] != c["ids_no_fix_encoding"])
    long_ = sum(1 for c in hand + bulk if c["row"] is None)
    print("wrote %d hand cases, %d bulk cases (%d depend on mojibake repair, %d over-long) to %s"
          % (len(hand), len(bulk), moji, long_, args.out))


if __name__ == "__main__":
    main()
