"""*Policy*: the ledger's `allocator.policy.Policy` (limits and the objective's weights), which
every role reads and administrators change.

The form is built from the model's fields, so a field added to `Policy` appears without a
template edit: a number (whole or not, with the range of its ``ge``/``le``), a yes/no, a choice
of an enum, a mapping with a fixed set of keys (urgency 1..5, the support levels: one input a
key) or with text keys (languages, districts: ``key=value`` pairs in one input). Anything else
is shown read-only. What is typed goes through the same pydantic model as a policy file; a bad
value is shown beside its field and nothing is saved. `Ledger.set_policy` audits the change
under the administrator, with the old and new value of each changed field.

The form carries a fingerprint of the policy it was read from (``policy_read``); a save from a
form read before another administrator's change is refused, not merged: the check and the write
are one transaction, so of two administrators saving at once the second is told.

Labels and hints of known fields are in `LABELS` and `HINTS` (through the catalogue); a field
without one is shown under its own name, with the model's description as its hint. An optional
number left empty means no limit, or what `EMPTY` says (the fairness bound: off).
"""

from __future__ import annotations

import enum
import json
import types
import typing
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import ValidationError
from pydantic.fields import FieldInfo
from starlette.responses import Response

from allocator.limits import MAX_TIE_WEIGHT, MIN_TIE_WEIGHT, describe_error, tie_weight
from allocator.policy import Policy
from allocator.web.errors_i18n import error_text
from allocator.web.i18n import N_, format_number, gettext
from allocator.web.routing import EVERYONE, PageContext, Role, page
from allocator.web.views.requests import SUPPORT

ADMINS = (Role.ADMIN,)
LABELS = {
    "horizon_weeks": N_("Planning horizon (weeks)"),
    "turnover_days": N_("Days a unit needs between two stays"),
    "urgency_weights": N_("Cost of a hotel night per person, by urgency"),
    "wasted_bed_night_weight": N_("Cost of an empty bed-night"),
    "kind_mismatch_weight": N_("Cost of a stay in a unit of the other kind"),
    "terminal_wait_days": N_("Nights assumed waited after the horizon"),
    "pin_weight": N_("Weight of a pin"),
    "support_loads": N_("Support load of a household, by support level"),
    "support_capacity": N_("Support team's load per day, at most"),
    "existing_stay_support": N_("Support level of a current stay whose file gives none"),
    "mediation_capacity": N_("Households needing mediation in one language, at most"),
    "mediation_capacity_by_language": N_("Mediation limit by language"),
    "max_stay_days": N_("Longest stay (nights)"),
    "announcement_weight": N_("Cost of changing a placement already announced to a household"),
    "district_weight": N_("Cost per district between a unit and the household's district"),
    "districts": N_("District map"),
    "connecting_rooms": N_("Combine connecting rooms for one household"),
    "fair_wait_days": N_("Fairness bound: days of waiting"),
}
HINTS = {
    "urgency_weights": N_("Urgency 1 is the lowest, 5 the highest."),
    "wasted_bed_night_weight": N_(
        "A tie-breaker: a bed left empty because the unit is larger than the household."
    ),
    "kind_mismatch_weight": N_(
        "A tie-breaker: a high-support household in a flat, or a low-support one in a hub room."
    ),
    "terminal_wait_days": N_("Keeps the plan from forgetting who still waits at its end."),
    "pin_weight": N_("How much more leaving out a pinned household costs."),
    "mediation_capacity_by_language": N_(
        "Pairs such as ar=3, ti=2: language code, then households; overrides the limit above."
    ),
    "announcement_weight": N_(
        "In hotel person-nights of urgency 1: a plan changes an announced unit or date, or "
        "leaves the household out, only to save more than this."
    ),
    "district_weight": N_(
        "In hotel person-nights, per district between the unit and the household's school or "
        "work; 0 ignores districts."
    ),
    "districts": N_(
        "A shipped map by name, or names and adjacent pairs; none: the same district counts 0, "
        "any other 1."
    ),
    "connecting_rooms": N_(
        "Rooms of one group (the units' group column) taken together by one household: never, "
        "only when no single unit has enough beds, or whenever it costs less."
    ),
    "fair_wait_days": N_(
        "Once a household has waited this many days since its need date, nobody who asked "
        "later starts before it in a unit it could take. The optimiser keeps to it, at a cost "
        "in hotel nights; first come, first served is unchanged."
    ),
}
# what an empty optional number means, where it is not "no limit"
EMPTY = {"fair_wait_days": N_("off")}
NO_LIMIT = N_("no limit")
KEY_LABELS = {"urgency_weights": N_("urgency %(key)s")}
ENUM_LABELS: dict[str, str] = {
    **SUPPORT,
    "never": N_("never"),
    "when_needed": N_("only when no single unit fits"),
    "comfort": N_("whenever it costs less"),
}


# --- the model's fields as inputs ------------------------------------------------------------


@dataclass
class Input:
    """One form input: ``name`` is the field's, or ``field.key`` for one key of a mapping."""

    name: str
    kind: str  # int, float, bool, choice, text, pairs
    value: str = ""
    low: float | None = None
    high: float | None = None
    optional: bool = False
    choices: list[tuple[str, str]] = field(default_factory=list)
    label: str = ""  # a key's label within its field
    error: str = ""


@dataclass
class Entry:
    """One field of the policy: its label, hint, inputs, and whatever the form cannot edit."""

    name: str
    label: str
    hint: str
    inputs: list[Input]
    shown: str = ""  # a read-only value (JSON) for a type the form does not edit
    error: str = ""

    @property
    def grouped(self) -> bool:
        return len(self.inputs) > 1


def _unwrap(annotation: Any) -> tuple[Any, list[Any], bool]:
    """The type under ``Optional``/``Annotated``, its constraints, and whether None is allowed."""
    metadata: list[Any] = []
    optional = False
    while True:
        origin = typing.get_origin(annotation)
        if origin is Annotated:
            annotation, *more = typing.get_args(annotation)
            metadata.extend(more)
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation, metadata, optional
            optional, annotation = True, args[0]
        else:
            return annotation, metadata, optional


def _bounds(metadata: list[Any]) -> tuple[float | None, float | None]:
    low = high = None
    for m in metadata:
        if isinstance(m, FieldInfo):  # ``Annotated[int, Field(ge=0)]``: its own constraints
            inner = _bounds(list(m.metadata))
            low = inner[0] if inner[0] is not None else low
            high = inner[1] if inner[1] is not None else high
            continue
        low = getattr(m, "ge", None) if getattr(m, "ge", None) is not None else low
        high = getattr(m, "le", None) if getattr(m, "le", None) is not None else high
    return low, high


def _kind(base: Any) -> str | None:
    if base is bool:
        return "bool"
    if base is int:
        return "int"
    if base is float:
        return "float"
    if base is str:
        return "text"
    if isinstance(base, type) and issubclass(base, enum.Enum):
        return "choice"
    return None


def _text(value: Any) -> str:
    """A value as an input holds it (numbers with a dot, as ``<input type=number>`` wants)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else ""
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def _choices(base: type[enum.Enum]) -> list[tuple[str, str]]:
    return [(str(m.value), gettext(ENUM_LABELS.get(str(m.value), str(m.value)))) for m in base]


def _scalar(name: str, annotation: Any, value: Any, metadata: list[Any]) -> Input | None:
    base, more, optional = _unwrap(annotation)
    kind = _kind(base)
    if kind is None:
        return None
    low, high = _bounds(metadata + more)
    return Input(
        name=name,
        kind=kind,
        value=_text(value),
        low=low,
        high=high,
        optional=optional,
        choices=_choices(base) if kind == "choice" else [],
    )


def _key_label(field_name: str, key: Any) -> str:
    shown = _text(key)
    if field_name in KEY_LABELS:
        return gettext(KEY_LABELS[field_name]) % {"key": shown}
    return gettext(ENUM_LABELS[shown]) if shown in ENUM_LABELS else shown


def _mapping(name: str, annotation: Any, value: Any) -> list[Input]:
    """A mapping's inputs: one a key where the keys are a fixed set (an enum's members, or the
    whole numbers stored, like urgency 1..5); one input of ``key=value`` pairs where the keys
    are text (languages, districts); none for anything else."""
    base = _unwrap(annotation)[0]
    if typing.get_origin(base) is not dict or not isinstance(value, dict):
        return []
    key_annotation, value_annotation = typing.get_args(base)
    key_type = _unwrap(key_annotation)[0]
    value_type, value_meta, _optional = _unwrap(value_annotation)
    enum_keys = isinstance(key_type, type) and issubclass(key_type, enum.Enum)
    if (key_type is int or enum_keys) and _kind(value_type) in ("int", "float", "bool"):
        inputs = []
        for key in list(key_type) if enum_keys else sorted(value):
            item = _scalar(f"{name}.{_text(key)}", value_annotation, value.get(key), [])
            assert item is not None
            item.label = _key_label(name, key)
            inputs.append(item)
        return inputs
    if key_type is str and _kind(value_type) in ("int", "float"):
        low, high = _bounds(value_meta)
        pairs = ", ".join(f"{k}={_text(v)}" for k, v in value.items())
        return [Input(name, "pairs", pairs, low, high)]
    return []


def entries(policy: Policy) -> list[Entry]:
    """The policy's fields, in the model's order, as labelled inputs with their values."""
    out = []
    for name, info in Policy.model_fields.items():
        value = getattr(policy, name)
        label = gettext(LABELS[name]) if name in LABELS else name
        hint = gettext(HINTS[name]) if name in HINTS else ""
        if name not in LABELS and info.description:
            # a field added since: its own words until it has a label and a translation
            hint = info.description.rstrip(".") + "."
        entry = Entry(name, label, hint, [])
        one = _scalar(name, info.annotation, value, list(info.metadata))
        entry.inputs = [one] if one is not None else _mapping(name, info.annotation, value)
        if not entry.inputs:
            dumped = policy.model_dump(mode="json")[name]
            entry.shown = gettext("none") if dumped is None else json.dumps(dumped)
        out.append(entry)
    return out


# --- reading the form ------------------------------------------------------------------------


def _number_text(raw: str) -> str:
    """``1,5`` as ``1.5``: an Italian decimal comma typed where the browser does not convert."""
    return raw.replace(",", ".") if raw.count(",") == 1 and "." not in raw else raw


def _read(ctx: PageContext, shown: list[Entry], policy: Policy) -> tuple[dict[str, Any], bool]:
    """The policy's fields with the form's values over them (raw text, for pydantic to check);
    a value the form itself cannot read is marked on its input. True if all could be read."""
    data = policy.model_dump()
    ok = True
    for entry in shown:
        for item in entry.inputs:
            raw = ctx.field(item.name)
            item.value = raw if item.kind != "bool" else ("1" if raw else "")
            parsed: Any
            if item.kind == "bool":
                parsed = bool(raw)
            elif item.kind == "pairs":
                parsed = {}
                for part in filter(None, (p.strip() for p in raw.replace(";", ",").split(","))):
                    key, eq, number = part.partition("=")
                    if not eq or not key.strip() or not number.strip():
                        item.error = gettext("Write pairs such as ar=3, ti=2, separated by commas.")
                        break
                    parsed[key.strip()] = _number_text(number.strip())
            elif raw == "":
                if not item.optional and item.kind != "text":
                    item.error = gettext("A value is needed.")
                parsed = None if item.optional else raw
            else:
                parsed = _number_text(raw) if item.kind in ("int", "float") else raw
            if item.error:  # the stored value stands in, so the other fields are still checked
                ok = False
                continue
            if "." in item.name and item.name.split(".", 1)[0] == entry.name:
                key = item.name.split(".", 1)[1]
                mapping = data[entry.name] = dict(data[entry.name])
                # the mapping's own key (an int, an enum member); a key it lacks, as typed
                known = next((k for k in mapping if _text(k) == key), key)
                mapping[known] = parsed
            else:
                data[entry.name] = parsed
    return data, ok


def _range(item: Input) -> str:
    digits = 0 if item.kind == "int" else 6
    low = format_number(item.low, digits) if item.low is not None else None
    high = format_number(item.high, digits) if item.high is not None else None
    if low is not None and high is not None:
        return gettext("from %(low)s to %(high)s") % {"low": low, "high": high}
    if low is not None:
        return gettext("at least %(low)s") % {"low": low}
    if high is not None:
        return gettext("at most %(high)s") % {"high": high}
    return ""


def _tie(text: str) -> bool:
    """Whether ``text`` is a number a tie-breaking weight refuses (`allocator.limits.tie_weight`)."""
    try:
        value = float(_number_text(text))
    except ValueError:
        return False
    try:
        tie_weight(value)
    except ValueError:
        return True
    return False


def _message(err: Any, item: Input | None) -> str:
    """pydantic's refusal in the reader's language where it is a kind we know."""
    kind = err["type"]
    span = _range(item) if item is not None else ""
    whole = (item is not None and item.kind == "int") or kind.startswith("int_")
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than") or (
        kind.startswith(("int_", "float_", "finite_")) or kind == "decimal_parsing"
    ):
        if whole:
            text = gettext("Expected a whole number")
        else:
            text = gettext("Expected a number")
        return f"{text} {span}.".replace(" .", ".") if span else f"{text}."
    if kind == "value_error" and item is not None and item.kind == "float" and _tie(item.value):
        low, high = format_number(MIN_TIE_WEIGHT, 6), format_number(MAX_TIE_WEIGHT, 6)
        return gettext(
            "Expected 0 or a number from %(low)s to %(high)s: a smaller weight is below the "
            "solvers' tolerance."
        ) % {"low": low, "high": high}
    if kind == "enum":
        return gettext("Choose one of the listed values.")
    if kind == "bool_parsing":
        return gettext("Expected yes or no.")
    return gettext("Not accepted: %(why)s") % {"why": error_text(describe_error(Policy, err))}


def _place_errors(exc: ValidationError, shown: list[Entry]) -> None:
    by_name = {e.name: e for e in shown}
    for err in exc.errors():
        loc = [str(p) for p in err["loc"] if "[" not in str(p)]
        if not loc or loc[0] not in by_name:
            continue
        entry = by_name[loc[0]]
        inputs = {i.name: i for i in entry.inputs}
        name = ".".join(loc[:2]) if len(loc) > 1 else loc[0]
        item = inputs.get(name) or (entry.inputs[0] if len(entry.inputs) == 1 else None)
        message = _message(err, item)
        if item is not None and not item.error:
            item.error = message
        elif item is None and not entry.error:
            entry.error = message


# --- the pages -------------------------------------------------------------------------------


def _show(
    ctx: PageContext,
    shown: list[Entry],
    read: Policy,
    status_code: int = 200,
    refused: bool = False,
    stale: bool = False,
) -> Response:
    return ctx.render(
        "policy.html",
        status_code,
        entries=shown,
        admin=ctx.user is not None and ctx.user.role == Role.ADMIN,
        refused=refused,
        stale=stale,
        policy_read=read.fingerprint(),
        range_of=_range,
        display=display,
        empty_hint=empty_hint,
    )


def _stale(ctx: PageContext) -> Response:
    """The policy as it is now, saying that the form's was changed meanwhile and nothing saved."""
    current = ctx.ledger().policy
    return _show(ctx, entries(current), current, 409, stale=True)


@page("/policy", roles=EVERYONE, nav=N_("Policy"), order=75)
def policy(ctx: PageContext) -> Response:
    current = ctx.ledger().policy
    return _show(ctx, entries(current), current)


@page("/policy/save", roles=ADMINS, methods=("POST",), name="policy_save")
def policy_save(ctx: PageContext) -> Response:
    ledger = ctx.ledger()
    current = ledger.policy
    read = ctx.field("policy_read")
    if read != current.fingerprint():
        return _stale(ctx)
    shown = entries(current)
    data, ok = _read(ctx, shown, current)
    try:
        new = Policy.model_validate(data)
    except ValidationError as exc:
        _place_errors(exc, shown)
        if not any(e.error or any(i.error for i in e.inputs) for e in shown):
            shown[0].error = _message(exc.errors()[0], None)
        return _show(ctx, shown, current, 400, refused=True)
    if not ok:
        return _show(ctx, shown, current, 400, refused=True)
    if new == current:
        ctx.flash(gettext("The policy is unchanged."))
    elif not ledger.set_policy(new, read=read):
        return _stale(ctx)
    else:
        ctx.flash(gettext("Policy saved. Plans proposed before this change cannot be approved."))
    return ctx.redirect("/policy")


def empty_hint(item: Input) -> str:
    """What leaving an optional input empty means, as the form's hint says it."""
    if item.name in EMPTY:
        return gettext("Empty: %(meaning)s.") % {"meaning": gettext(EMPTY[item.name])}
    return gettext("Empty: no limit.")


def display(item: Input) -> str:
    """An input's value as text for a reader who may not change it."""
    if item.kind == "bool":
        return gettext("yes") if item.value else gettext("no")
    if item.value == "":
        return gettext(EMPTY.get(item.name, NO_LIMIT)) if item.optional else ""
    if item.kind == "choice":
        return dict(item.choices).get(item.value, item.value)
    if item.kind in ("int", "float"):
        try:
            return format_number(float(item.value), 0 if item.kind == "int" else 6)
        except ValueError:
            return item.value
    return item.value
