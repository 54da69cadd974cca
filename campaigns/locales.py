"""Template texts per locale: a fallback chain (de-DE -> de -> the template's own language).

A template's own texts (manifest ``[texts]``, field defaults, personalized slots, variant
overrides, the email subject) are in its default language (``language``, "en" unless said).
``locales/<tag>.toml`` gives the same texts in another language. A language file (``de``)
must translate every text, so an output is never half in one language and half in another;
a regional file (``de-CH``) may change only some, on top of its language's file. A choice
field's choices are given as outputs show them (``[fields.<name>] choices = [...]``, in the
manifest's order); the value stored stays the template's own choice.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from .errors import Problems, TemplateError
from .rules import Rule

if TYPE_CHECKING:
    from .template import Template

LOCALE_TAG = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})*$")
LOCALE_KEYS = {"texts", "fields", "personalize", "variants", "email"}
TEXT_FIELD_TYPES = ("text", "multiline")


def normalize_tag(tag: str) -> str:
    """'de_DE' and 'de-DE' to 'de-de'."""
    return (tag or "").strip().lower().replace("_", "-")


def fallback_chain(locale: str) -> list[str]:
    """Most specific first: 'de-de' -> ['de-de', 'de']."""
    tag = normalize_tag(locale)
    chain = []
    while tag:
        chain.append(tag)
        tag = tag.rpartition("-")[0]
    return chain


@dataclass(frozen=True)
class Translation:
    """One locale file's texts, by kind; every value is text."""

    texts: tuple[tuple[str, str], ...] = ()
    fields: tuple[tuple[str, str], ...] = ()  # field name -> default
    choices: tuple[tuple[str, tuple[str, ...]], ...] = ()  # choice field -> labels, in order
    rules: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = ()  # name, default, values
    variants: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()
    subject: str = ""


def _table(raw: Any, file: str, where: str) -> Mapping:
    if not isinstance(raw, Mapping):
        raise TemplateError(file, where, "must be a table")
    return raw


def _texts(raw: Any, file: str, where: str) -> tuple[tuple[str, str], ...]:
    """A table of name = text."""
    table = _table(raw, file, where)
    problems = Problems()
    for name, value in table.items():
        if not isinstance(value, str) or not value.strip():
            problems.add(file, f"{where}.{name}", "must be non-empty text")
    problems.raise_if_any()
    return tuple(sorted(table.items()))


def _known_texts(raw: Any, allowed: set[str], file: str, where: str) -> tuple[tuple[str, str], ...]:
    """A table of name = text whose every name the template has."""
    pairs = _texts(raw, file, where)
    _known({n for n, _ in pairs}, allowed, file, where)
    return pairs


def parse_translation(raw: Any, template: Template, file: str) -> Translation:
    """Check one locale file against the template's own texts and return it; every wrong entry
    is named."""
    raw = _table(raw, file, "locale")
    problems = Problems()
    for key in sorted(set(raw) - LOCALE_KEYS):
        problems.add(file, key, f"unknown key; a locale file has {sorted(LOCALE_KEYS)}")
    texts = problems.attempt(_known_texts, raw.get("texts", {}), set(dict(template.texts)), file,
                             "texts", default=())
    fields, choices = problems.attempt(_field_texts, raw.get("fields", {}), template, file,
                                       default=((), ()))
    rules = problems.attempt(_rules, raw.get("personalize", {}), template, file, default=())
    variants = problems.attempt(_variant_texts, raw.get("variants", {}), template, file,
                                default=())
    email = dict(problems.attempt(_known_texts, raw.get("email", {}), {"subject"}, file, "email",
                                  default=()))
    problems.raise_if_any()
    return Translation(texts, fields, choices, rules, variants, email.get("subject", ""))


def _field_texts(raw: Any, template: Template, file: str):
    """Field defaults, and a choice field's choices, in this language: (defaults, choices)."""
    problems = Problems()
    fields, choices = [], []
    kinds = {f.name: f for f in template.fields}
    for name, table in _table(raw, file, "fields").items():
        field, where = kinds.get(name), f"fields.{name}"
        if field is not None and field.type == "choice":
            labels = problems.attempt(_labels, table, field.choices, file, where)
            choices += [(name, labels)] if labels is not None else []
        else:
            default = problems.attempt(_field_default, table, file, where)
            fields += [(name, default)] if default is not None else []
    problems.attempt(_known, {n for n, _ in fields}, set(kinds), file, "fields")
    problems.raise_if_any()
    return tuple(sorted(fields)), tuple(sorted(choices))


def _field_default(table: Any, file: str, where: str) -> str:
    """A field's default in this language (the one thing a locale file gives a field)."""
    default = dict(_texts(table, file, where)).get("default", "")
    if set(table) != {"default"}:
        raise TemplateError(file, where, "a locale file sets only a field's default "
                                         "(a choice field: its choices)")
    return default


def _rules(raw: Any, template: Template, file: str):
    """Every personalized slot's texts in this language."""
    problems = Problems()
    rules = [problems.attempt(_rule, name, table, template, file)
             for name, table in _table(raw, file, "personalize").items()]
    problems.raise_if_any()
    return tuple(sorted(rules))


def _variant_texts(raw: Any, template: Template, file: str):
    """The texts each variant overrides, in this language."""
    problems = Problems()
    overrides = {v: set(dict(pairs)) for v, pairs in template.variant_overrides}
    variants, table = [], _table(raw, file, "variants")
    problems.attempt(_known, set(table), set(overrides), file, "variants")
    for variant, texts in table.items():
        where = f"variants.{variant}"
        pairs = (problems.attempt(_known_texts, texts, overrides[variant], file, where)
                 if variant in overrides else problems.attempt(_texts, texts, file, where))
        variants += [(variant, pairs)] if pairs is not None else []
    problems.raise_if_any()
    return tuple(sorted(variants))


def _labels(table: Any, choices: tuple[str, ...], file: str, where: str) -> tuple[str, ...]:
    """A choice field's choices as shown in this language, one per choice and in its order."""
    table = _table(table, file, where)
    labels = table.get("choices")
    if set(table) != {"choices"} or not isinstance(labels, list):
        raise TemplateError(file, where, "a locale file gives a choice field only its choices, "
                                         "as a list")
    if len(labels) != len(choices) or not all(isinstance(v, str) and v.strip() for v in labels):
        raise TemplateError(file, f"{where}.choices", f"must name each of the {len(choices)} "
                                                      f"choices {list(choices)} in this language, "
                                                      "in the same order")
    return tuple(labels)


def _rule(name: str, raw: Any, template: Template, file: str):
    """A personalized slot's texts in this locale: default and values by the same attribute."""
    where = f"personalize.{name}"
    table = _table(raw, file, where)
    rule = {r.name: r for r in template.rules}.get(name)
    if rule is None:
        raise TemplateError(file, where, f"the template has no personalized slot {name!r}")
    if set(table) - {"default", "values"} or not isinstance(table.get("default"), str):
        raise TemplateError(file, where, "needs a default text and may have values")
    values = _texts(table.get("values", {}), file, f"{where}.values")
    return name, table["default"], tuple((normalize_tag(k), v) for k, v in values)


def _known(given: set[str], allowed: set[str], file: str, where: str) -> None:
    """Names a locale file translates must exist in the template."""
    problems = Problems()
    for extra in sorted(given - allowed):
        problems.add(file, f"{where}.{extra}", "the template has no such text")
    problems.raise_if_any()


def required_texts(template: Template) -> set[str]:
    """Every text a complete translation must give, as 'kind.name' strings."""
    needed = {f"texts.{n}" for n, _ in template.texts}
    needed |= {f"fields.{f.name}" for f in template.fields
               if f.type in TEXT_FIELD_TYPES and f.default.strip()}
    needed |= {f"fields.{f.name}.choices" for f in template.fields if f.type == "choice"}
    needed |= {f"personalize.{r.name}" for r in template.rules}
    needed |= {f"variants.{v}.{n}" for v, pairs in template.variant_overrides for n, _ in pairs}
    if template.email:
        needed.add("email.subject")
    return needed


def given_texts(translation: Translation) -> set[str]:
    """The 'kind.name' texts a translation gives."""
    given = {f"texts.{n}" for n, _ in translation.texts}
    given |= {f"fields.{n}" for n, _ in translation.fields}
    given |= {f"fields.{n}.choices" for n, _ in translation.choices}
    given |= {f"personalize.{n}" for n, _, _ in translation.rules}
    given |= {f"variants.{v}.{n}" for v, pairs in translation.variants for n, _ in pairs}
    return given | ({"email.subject"} if translation.subject else set())


def check_complete(tag: str, translations: Mapping[str, Translation], template: Template,
                   file: str) -> None:
    """A language file, or a regional one without its language's file, translates everything."""
    base = tag.partition("-")[0]
    if "-" in tag and base in translations:
        return
    missing = sorted(required_texts(template) - given_texts(translations[tag]))
    if missing:
        also = f" (also missing: {', '.join(missing[1:])})" if missing[1:] else ""
        raise TemplateError(file, missing[0], f"not translated{also}; a language file must "
                                              "translate every text so no output mixes languages")


def apply_translation(template: Template, layers: list[Translation], language: str) -> Template:
    """The template with its texts replaced by the layers' (least specific first)."""
    texts = dict(template.texts)
    defaults = {f.name: f.default for f in template.fields}
    labels = {f.name: f.choice_labels for f in template.fields}
    rules = {r.name: r for r in template.rules}
    variants = {v: dict(pairs) for v, pairs in template.variant_overrides}
    subject = template.email[2] if template.email else ""
    for layer in layers:
        texts.update(layer.texts)
        defaults.update(layer.fields)
        labels.update(layer.choices)
        for name, default, values in layer.rules:
            rules[name] = Rule(name, rules[name].by, values, default)
        for variant, pairs in layer.variants:
            variants[variant].update(pairs)
        subject = layer.subject or subject
    email = (template.email[0], template.email[1], subject) if template.email else None
    return replace(
        template, texts=tuple(sorted(texts.items())), language=language,
        fields=tuple(replace(f, default=defaults[f.name], choice_labels=labels[f.name])
                     for f in template.fields),
        rules=tuple(rules[r.name] for r in template.rules), email=email,
        variant_overrides=tuple((v, tuple(sorted(p.items()))) for v, p in variants.items()),
    )


def localize(template: Template, locale: str) -> Template:
    """The template in the partner's locale along the fallback chain, or as it is."""
    chain = [tag for tag in fallback_chain(locale) if tag in template.translations]
    if not chain:
        return template
    cache = template.localized_cache
    if chain[0] not in cache:
        layers = [template.translations[tag] for tag in reversed(chain)]
        cache[chain[0]] = apply_translation(template, layers, chain[0])
    return cache[chain[0]]
