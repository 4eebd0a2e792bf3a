"""Wrapper specs from a run file: `Name`, `Name(key=literal, ...)` or `module.path:Class(...)`.

Arguments are Python literals read with `ast.literal_eval`, so a run file can never execute code
through a wrapper spec.
"""

from __future__ import annotations

import ast
import importlib
import re
from dataclasses import dataclass, field

import gymnasium

_SPEC = re.compile(r"\s*(?P<name>[A-Za-z_][\w.]*(?::[A-Za-z_][\w.]*)?)\s*(?:\((?P<arguments>.*)\))?\s*", re.DOTALL)


@dataclass(frozen=True)
class WrapperSpec:
    text: str
    name: str
    kwargs: dict = field(default_factory=dict)

    def resolve(self) -> type:
        """The wrapper class: from gymnasium.wrappers, or `module:Class` after importing the module."""
        module_name, _, attribute = self.name.rpartition(":")
        module = importlib.import_module(module_name) if module_name else gymnasium.wrappers
        target = module
        for part in attribute.split("."):
            if not hasattr(target, part):
                where = module_name or "gymnasium.wrappers"
                raise ValueError(f"wrapper {self.text!r}: {where} has no {attribute!r}")
            target = getattr(target, part)
        if not callable(target):
            raise ValueError(f"wrapper {self.text!r}: {self.name} is not a class")
        return target


def parse_wrapper(text: str) -> WrapperSpec:
    """`FrameStackObservation(stack_size=4)` -> WrapperSpec; anything else raises ValueError saying why."""
    if not isinstance(text, str):
        raise ValueError(f"a wrapper is a string like \"FrameStackObservation(stack_size=4)\", got {text!r}")
    match = _SPEC.fullmatch(text)
    if match is None:
        raise ValueError(f"wrapper {text!r}: expected Name, Name(key=value, ...) or module:Class(key=value, ...)")
    arguments = match.group("arguments")
    if arguments is None or not arguments.strip():
        return WrapperSpec(text, match.group("name"))
    try:
        call = ast.parse(f"f({arguments})", mode="eval").body
    except SyntaxError as error:
        raise ValueError(f"wrapper {text!r}: arguments are not valid Python ({error.msg})") from None
    if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Name) or call.args:
        raise ValueError(f"wrapper {text!r}: arguments must be keywords, like stack_size=4")
    kwargs = {}
    for keyword in call.keywords:
        if keyword.arg is None:
            raise ValueError(f"wrapper {text!r}: ** arguments are not allowed")
        if keyword.arg in kwargs:
            raise ValueError(f"wrapper {text!r}: {keyword.arg} is given twice")
        try:
            kwargs[keyword.arg] = ast.literal_eval(keyword.value)
        except (ValueError, TypeError):
            raise ValueError(f"wrapper {text!r}: the value of {keyword.arg} must be a Python literal, "
                             f"got {ast.unparse(keyword.value)}") from None
    return WrapperSpec(text, match.group("name"), kwargs)
