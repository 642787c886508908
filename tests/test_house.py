"""House rules on size (CONTRIBUTING.md): no module of the core or the drums plugin over 500 lines, no
function over 60 (from its ``def`` to its last line, decorators left out); the studio's JavaScript files
likewise, their functions found by a brace-matching scan."""

import ast
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent
PYTHON = [ROOT / "seqgen", ROOT / "plugins" / "drums" / "seqgen_drums"]
STATIC = ROOT / "seqgen" / "studio" / "static"
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 60


def _python_files() -> list:
    return sorted(path for folder in PYTHON for path in folder.rglob("*.py"))


def _js_files() -> list:
    return sorted(STATIC.rglob("*.js"))


def _name(path) -> str:
    return path.relative_to(ROOT).as_posix()


def python_functions(source: str) -> list:
    """``(line, name, lines)`` of every function and method in ``source``, nested ones included."""
    return [
        (node.lineno, node.name, node.end_lineno - node.lineno + 1)
        for node in ast.walk(ast.parse(source))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    ]


def _code_braces(source: str) -> dict:
    """``{index of "{": index of its "}"}`` for the braces of JavaScript ``source`` outside strings, comments
    and template text (the braces of a template's ``${...}`` are left out; those inside it count)."""
    pairs, opened = {}, []
    modes = [0]  # 0, 1...: code, holding that many open braces of a ${...}; "`": template text
    i = 0
    while i < len(source):
        char, mode = source[i], modes[-1]
        if mode == "`":
            if char == "\\":
                i += 1
            elif char == "`":
                modes.pop()
            elif source.startswith("${", i):
                modes.append(0)
                i += 1
        elif source.startswith("//", i):
            i = source.find("\n", i) - 1 if "\n" in source[i:] else len(source)
        elif source.startswith("/*", i):
            i = source.find("*/", i + 2) + 1 if "*/" in source[i + 2 :] else len(source)
        elif char in "'\"":
            end = re.compile(rf"(?:\\.|[^\\{char}\n])*{char}").match(source, i + 1)
            i = end.end() - 1 if end else i
        elif char == "`":
            modes.append("`")
        elif char == "{":
            modes[-1] += 1
            opened.append(i)
        elif char == "}":
            if modes[-1] == 0 and len(modes) > 1:
                modes.pop()  # the end of a ${...}
            elif opened:
                modes[-1] -= 1
                pairs[opened.pop()] = i
        i += 1
    return pairs


#: Where a function starts: ``function name(``, a method ``name(`` at the start of a line, or ``const name =``
#: an arrow function or a function expression.
_HEADS = re.compile(
    r"^[ \t]*(?:export\s+)?(?:(?:async\s+)?function\s*\*?\s*(\w+)\s*(?=\()"
    r"|(?:(?:static|async|get|set)\s+)*(\w+)\s*(?=\()"
    r"|(?:const|let|var)\s+(\w+)\s*=\s*(?:async\s+)?(?:function\s*\*?\s*\w*\s*)?(?=\(|\w+\s*=>))",
    re.MULTILINE,
)
_NOT_METHODS = {"if", "for", "while", "switch", "catch", "with", "return", "function", "typeof", "await", "new"}


def _after_parameters(source: str, start: int) -> int:
    """The index after the parameters that start at ``start`` (``(...)`` or one name)."""
    if source[start] != "(":
        return re.compile(r"\w+").match(source, start).end()
    depth = 0
    for i in range(start, len(source)):
        depth += {"(": 1, ")": -1}.get(source[i], 0)
        if depth == 0:
            return i + 1
    return len(source)


def js_functions(source: str) -> list:
    """``(line, name, lines)`` of the functions, methods and arrow functions with a body in ``source``, from
    the line that names them to the line of their closing brace."""
    pairs = _code_braces(source)
    found = []
    for head in _HEADS.finditer(source):
        name = head.group(1) or head.group(2) or head.group(3)
        if head.group(2) and name in _NOT_METHODS:
            continue
        body = re.compile(r"\s*(?:=>\s*)?").match(source, _after_parameters(source, head.end())).end()
        if body in pairs:
            line = source.count("\n", 0, head.start()) + 1
            found.append((line, name, source.count("\n", head.start(), pairs[body]) + 1))
    return found


def test_python_modules_are_at_most_500_lines():
    long = [
        f"{_name(path)} is {lines} lines"
        for path in _python_files()
        if (lines := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    ]
    assert not long, f"modules over {MAX_MODULE_LINES} lines (split them by concern): " + "; ".join(long)


def test_python_functions_are_at_most_60_lines():
    long = [
        f"{_name(path)}:{line} {name} is {lines} lines"
        for path in _python_files()
        for line, name, lines in python_functions(path.read_text())
        if lines > MAX_FUNCTION_LINES
    ]
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines (split them into helpers): " + "; ".join(long)


def test_studio_scripts_are_at_most_500_lines():
    long = [
        f"{_name(path)} is {lines} lines"
        for path in _js_files()
        if (lines := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    ]
    assert not long, f"scripts over {MAX_MODULE_LINES} lines (split them into modules): " + "; ".join(long)


def test_studio_script_functions_are_at_most_60_lines():
    long = [
        f"{_name(path)}:{line} {name} is {lines} lines"
        for path in _js_files()
        for line, name, lines in js_functions(path.read_text())
        if lines > MAX_FUNCTION_LINES
    ]
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines (split them into helpers): " + "; ".join(long)


def test_the_scans_measure_each_kind_of_function():
    python = "@decorator\ndef outer():\n    def inner():\n        pass\n\n    return inner\n"
    assert sorted(python_functions(python)) == [(2, "outer", 5), (3, "inner", 2)]
    script = """export function plain(a = {x: 1}) {
  const text = `{ ${a.x ? "}" : '{'} }`;  // a { in a comment
  return text;
}
class Lane {
  async draw(bars) {
    if (bars) {
      return bars.map(bar => bar + 1);
    }
  }
}
const arrow = async (event) => {
  /* } */
  call(() => {
    done();
  });
};
const short = value => value * 2;
"""
    assert js_functions(script) == [(1, "plain", 4), (6, "draw", 5), (12, "arrow", 6)]
