"""Papermill support for Stratbook (Rhai) notebooks: a parameter translator for `-p NAME VALUE`.

Importing this module registers ``RhaiTranslator`` for the language ``rhai`` and the kernel
``stratbook``. papermill imports it through the ``papermill.engine`` entry point at startup.
"""

import math
import re

from papermill.translators import Translator, papermill_translators

__all__ = ["RhaiTranslator", "StratbookEngine"]

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_LET = re.compile(r"^\s*(?:let|const)\s+([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.+?);?\s*(?://\s*(.*))?$")


class RhaiTranslator(Translator):
    """Renders Python values as Rhai literals: `let name = value;`."""

    @classmethod
    def translate_escaped_str(cls, str_val):
        out = []
        for ch in str(str_val):
            if ch == '"':
                out.append('\\"')
            elif ch == "\\":
                out.append("\\\\")
            elif ch == "\n":
                out.append("\\n")
            elif ch == "\r":
                out.append("\\r")
            elif ch == "\t":
                out.append("\\t")
            elif ord(ch) < 0x20:
                out.append("\\x%02x" % ord(ch))
            else:
                out.append(ch)
        return '"' + "".join(out) + '"'

    @classmethod
    def translate_none(cls, val):
        return "()"

    @classmethod
    def translate_bool(cls, val):
        return "true" if val else "false"

    @classmethod
    def translate_float(cls, val):
        if not math.isfinite(val):
            raise ValueError(f"Rhai has no literal for {val!r}; pass a finite number")
        s = repr(float(val))
        mantissa, _, exp = s.partition("e")
        if "." not in mantissa:
            mantissa += ".0"
        return mantissa + ("e" + exp.lstrip("+") if exp else "")

    @classmethod
    def translate_list(cls, val):
        return "[" + ", ".join(cls.translate(v) for v in val) + "]"

    @classmethod
    def translate_dict(cls, val):
        items = ", ".join(f"{cls.translate_escaped_str(k)}: {cls.translate(v)}" for k, v in val.items())
        return "#{" + items + "}"

    @classmethod
    def comment(cls, cmt_str):
        return f"// {cmt_str}".strip()

    @classmethod
    def assign(cls, name, str_val):
        if not _IDENT.match(name):
            raise ValueError(f"invalid Rhai parameter name {name!r}; use letters, digits and _")
        return f"let {name} = {str_val};"

    @classmethod
    def inspect(cls, parameters_cell):
        """Lists `let name = value;` lines of the parameters cell (for `papermill --help-notebook`)."""
        from papermill.models import Parameter

        params = []
        for line in parameters_cell.source.splitlines():
            m = _LET.match(line)
            if m:
                name, default, help_text = m.group(1), m.group(2).strip(), m.group(3) or ""
                params.append(Parameter(name=name, inferred_type_name="None", default=default, help=help_text))
        return params


papermill_translators.register("rhai", RhaiTranslator)
papermill_translators.register("stratbook", RhaiTranslator)

# Imported last: papermill.engines may be mid-import when it loads this entry point, and
# NBClientEngine is defined before it loads plugins.
from papermill.engines import NBClientEngine as StratbookEngine  # noqa: E402
