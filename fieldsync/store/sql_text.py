"""SQL read as tokens (store/dialect.py rewrites them for PostgreSQL, store/ddl.py translates DDL):
SQLite's lexical rules, enough for the program's own statements and schema."""

from __future__ import annotations

import re

_TOKENS = re.compile(r"""
    (?P<space>\s+|--[^\n]*\n?|/\*.*?\*/)
  | (?P<string>'(?:[^']|'')*')
  | (?P<quoted>"(?:[^"]|"")*"|`[^`]*`|\[[^\]]*\])
  | (?P<number>\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+)
  | (?P<param>\?\d*|[:@$][A-Za-z_]\w*)
  | (?P<word>[A-Za-z_][\w$]*)
  | (?P<op>\|\||==|!=|<>|<=|>=|->>|->|<<|>>|[-+*/%<>=(),.;~&|])
""", re.VERBOSE | re.DOTALL)


class Token(str):
    """A piece of SQL and what kind of piece it is."""
    kind: str

    def __new__(cls, text: str, kind: str):
        token = super().__new__(cls, text)
        token.kind = kind
        return token

    @property
    def upper(self) -> str:
        return str.upper(self) if self.kind == "word" else str(self)


def tokens(sql: str) -> list[Token]:
    found, at = [], 0
    for match in _TOKENS.finditer(sql):
        if match.start() != at:
            raise ValueError(f"cannot read SQL at {sql[at:at + 30]!r}")
        at = match.end()
        text = match.group()
        if match.lastgroup == "space" and text.startswith(("--", "/*")):
            text = "\n"   # a comment: nothing may end up behind it
        found.append(Token(text, match.lastgroup))
    if at != len(sql):
        raise ValueError(f"cannot read SQL at {sql[at:at + 30]!r}")
    return found


class Group(list):
    """A parenthesised run of tokens, nested."""


def nest(flat: list[Token]) -> list:
    stack: list[list] = [[]]
    for token in flat:
        if token == "(":
            stack.append(Group())
        elif token == ")":
            inner = stack.pop()
            stack[-1].append(inner)
        else:
            stack[-1].append(token)
    if len(stack) != 1:
        raise ValueError("unbalanced parentheses in SQL")
    return stack[0]


def solid(items: list) -> list:
    """The items that are not space or comments."""
    return [item for item in items if not (isinstance(item, Token) and item.kind == "space")]


def arguments(group: Group) -> list[list]:
    args, current = [], []
    for item in group:
        if isinstance(item, Token) and item == ",":
            args.append(current)
            current = []
        else:
            current.append(item)
    args.append(current)
    return args if solid(group) else []


def statements(flat: list[Token]) -> list[list[Token]]:
    """Split on top-level semicolons (a trigger's BEGIN … END stays whole)."""
    out, current, depth, block, cases = [], [], 0, 0, 0
    for token in flat:
        current.append(token)
        if token == "(":
            depth += 1
        elif token == ")":
            depth -= 1
        elif token.kind == "word" and token.upper == "BEGIN" and is_trigger(current):
            block += 1
        elif token.kind == "word" and token.upper == "CASE":
            cases += 1
        elif token.kind == "word" and token.upper == "END":
            if cases:
                cases -= 1
            elif block:
                block -= 1
        elif token == ";" and depth == 0 and not block:
            out.append(current)
            current = []
    if solid(current):
        out.append(current)
    return out


def is_trigger(current: list[Token]) -> bool:
    words = [t.upper for t in current if t.kind == "word"][:4]
    return "TRIGGER" in words and words[0] == "CREATE"
