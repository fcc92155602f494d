"""A Step Functions state machine drawn with its branches: its Task states as nodes inside the state
machine's group, the transitions between them (``Next``; a Choice state's rules and default become
labelled branches; Map and Parallel states are entered and left), and each task to the resource it
calls. Error handling (``Catch``) is drawn once per handler, from the state machine: "on error",
instead of one edge from every task that catches (the picture stays readable).

The definition is read back from the template: CDK writes it as ``Fn::Join`` of JSON text and
references; the references become placeholders, the text is parsed, and the placeholders become
resource keys again.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from refarch.diagrams.model import Architecture, Group, Node, Source
from refarch.testing.network_model import ResourceKey

#: Shown states; the others (Choice, Pass, Wait, Succeed, Fail, Map, Parallel) are passed through.
_SHOWN = {"Task"}
_PLACEHOLDER = re.compile(r"@@(\d+)@@")
_PSEUDO = {"AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com"}


@dataclass(frozen=True)
class _Transition:
    target: str
    label: str


def add_workflows(arch: Architecture, source: Source, node_ids: dict[ResourceKey, str]) -> None:
    """For every state machine node: its states in a group, transitions, and task -> resource edges."""
    for key, machine_id in list(node_ids.items()):
        if source.type_of(key) != "AWS::StepFunctions::StateMachine":
            continue
        definition, refs = _definition(source.props(key))
        if definition is None:
            continue
        machine = arch.nodes[machine_id]
        group_id = f"{machine_id}_states"
        arch.groups[group_id] = Group(group_id, f"{machine.title}: {machine.name}", machine.group)
        arch.nodes[machine_id] = Node(machine.id, machine.kind, machine.title, machine.name, group_id, machine.key)
        states = dict(_flatten(definition))
        state_ids = {name: f"{machine_id}_{re.sub(r'[^A-Za-z0-9]', '_', name)}" for name in states}
        for name, state in states.items():
            if state["Type"] in _SHOWN:
                arch.nodes[state_ids[name]] = Node(state_ids[name], "state", "Task", name, group_id)
        graph = _Graph(states)
        for start in graph.shown_after(definition["StartAt"], ""):
            arch.add_edge(machine_id, state_ids[start.target], start.label)
        for name, state in states.items():
            if state["Type"] not in _SHOWN:
                continue
            for transition in graph.transitions(name):
                arch.add_edge(state_ids[name], state_ids[transition.target], transition.label)
            for catch in state.get("Catch", []):
                for handler in graph.shown_after(catch.get("Next", ""), "on error"):
                    arch.add_edge(machine_id, state_ids[handler.target], handler.label)
            for ref, action in _task_calls(state, refs):
                target = node_ids.get(source.key(key[0], ref) or ("", ""))
                if target:
                    arch.add_edge(state_ids[name], target, action)


class _Graph:
    """Transitions between shown states, skipping the states that are not shown."""

    def __init__(self, states: dict[str, dict[str, Any]]) -> None:
        self.states = states

    def transitions(self, name: str) -> list[_Transition]:
        state = self.states[name]
        if "Next" in state:
            return self.shown_after(state["Next"], "")
        if state.get("End") and "_parent" in state:
            return self._after_parent(state["_parent"])
        return []

    def shown_after(self, name: str, label: str, seen: frozenset[str] = frozenset()) -> list[_Transition]:
        """The shown states reached by entering ``name`` (itself, when shown)."""
        state = self.states.get(name)
        if state is None or name in seen:
            return []
        seen = seen | {name}
        if state["Type"] in _SHOWN:
            return [_Transition(name, label)]
        if state["Type"] == "Choice":
            branches = [(c.get("Next", ""), _condition(c)) for c in state.get("Choices", [])]
            branches += [(state["Default"], "otherwise")] if "Default" in state else []
            return [t for target, condition in branches for t in self.shown_after(target, condition, seen)]
        if state["Type"] in ("Map", "Parallel"):
            return [t for start in state["_starts"] for t in self.shown_after(start, label, seen)]
        if "Next" in state:
            return self.shown_after(state["Next"], label, seen)
        if state.get("End") and "_parent" in state:
            return self._after_parent(state["_parent"], seen)
        return []  # Succeed, Fail: the end

    def _after_parent(self, parent: str, seen: frozenset[str] = frozenset()) -> list[_Transition]:
        state = self.states[parent]
        return self.shown_after(state["Next"], "", seen) if "Next" in state else []


def _flatten(definition: dict[str, Any], parent: str | None = None) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every state, nested ones too, each with its parent Map/Parallel and a Map/Parallel's starts."""
    for name, state in definition.get("States", {}).items():
        state = dict(state, **({"_parent": parent} if parent else {}))
        inner = [state["ItemProcessor"]] if "ItemProcessor" in state else []
        inner += [state["Iterator"]] if "Iterator" in state else []
        inner += state.get("Branches", [])
        state["_starts"] = [branch["StartAt"] for branch in inner]
        yield name, state
        for branch in inner:
            yield from _flatten(branch, name)


def _condition(choice: dict[str, Any]) -> str:
    """A short reading of a Choice rule: ``$.validation.valid == true``."""
    if "Condition" in choice:
        return str(choice["Condition"])
    for combinator in ("And", "Or", "Not"):
        if combinator in choice:
            parts = choice[combinator] if isinstance(choice[combinator], list) else [choice[combinator]]
            return f" {combinator.lower()} ".join(_condition(part) for part in parts[-1:])
    variable = str(choice.get("Variable", ""))
    for operator, value in choice.items():
        if operator not in ("Variable", "Next"):
            symbol = {"Equals": "==", "Matches": "~"}.get(next((s for s in ("Equals", "Matches") if s in operator), ""))
            return f"{variable} {symbol or operator} {json.dumps(value)}"
    return variable


def _task_calls(state: dict[str, Any], refs: list[Any]) -> Iterator[tuple[Any, str]]:
    """(reference, action) for each resource a Task state names in its Resource or Parameters."""
    resource = str(state.get("Resource", ""))
    action = resource.split(":::", 1)[1] if ":::" in resource else "invoke"
    text = json.dumps([resource, state.get("Parameters", state.get("Arguments"))])
    for index in dict.fromkeys(_PLACEHOLDER.findall(text)):
        yield refs[int(index)], action.split(".")[0]


def _definition(props: dict[str, Any]) -> tuple[dict[str, Any] | None, list[Any]]:
    """The parsed definition, with references as ``@@n@@`` placeholders (``refs[n]``)."""
    value = props.get("DefinitionString", props.get("Definition"))
    refs: list[Any] = []
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        text = separator.join(part if isinstance(part, str) else _placeholder(part, refs) for part in parts)
    elif isinstance(value, dict) and "StartAt" in value:
        return value, refs
    elif isinstance(value, str):
        text = value
    else:
        return None, refs
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError:
        return None, refs
    return (parsed, refs) if isinstance(parsed, dict) and "States" in parsed else (None, refs)


def _placeholder(part: Any, refs: list[Any]) -> str:
    if isinstance(part, dict) and part.get("Ref") in _PSEUDO:
        return _PSEUDO[part["Ref"]]
    refs.append(part)
    return f"@@{len(refs) - 1}@@"


__all__ = ["add_workflows"]
