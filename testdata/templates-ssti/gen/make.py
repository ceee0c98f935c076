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

# Red-team round 1 files, kept verbatim (not written by this script):
# (file, kind, trick, severity, expect, note)
KEPT = [
    ('malicious/rt1-fn01_default_laundered_item.jinja', 'malicious', "'_' laundered through hm_unset|default('_')", 'critical', 'template/dunder-access', "Red team 1: the underscore comes from an undefined variable's |default, so the item key mixes a template constant with runtime data; namespace[k][k]… falls back to getattr (full RCE chain)."),
    ('malicious/rt1-fn02_messages_length_printf.jinja', 'malicious', "'%c' % (messages|length*0+95)", 'critical', 'template/dunder-access', "Red team 1: '%c' of an integer computed from runtime data is one unknown character that can be '_'."),
    ('malicious/rt1-fn03_macro_kwargs.jinja', 'malicious', "'_' returned by a macro through kwargs", 'critical', 'template/dunder-access', "Red team 1: piece(v='_') renders kwargs.v; the macro output feeds the item keys."),
    ('malicious/rt1-fn04_macro_varargs.jinja', 'malicious', "'_' returned by a macro through varargs", 'critical', 'template/dunder-access', "Red team 1: piece('_') renders varargs|join."),
    ('malicious/rt1-fn05_call_block_caller.jinja', 'malicious', "'_' returned by caller() of a call block", 'critical', 'template/dunder-access', 'Red team 1: {% call wrap() %}_{% endcall %} with wrap() rendering caller().'),
    ('malicious/rt1-fn06_slice_empty_messages.jinja', 'malicious', "(messages|string)[:0] ~ '_'", 'critical', 'template/dunder-access', "Red team 1: an empty runtime prefix joined to '_'."),
    ('malicious/rt1-fn07_format_field_env_leak.jinja', 'malicious', "str.format field path built from laundered '_'", 'critical', 'template/dunder-access', "Red team 1: '{0.__init__.__globals__[os].environ}'.format(namespace) with the underscores taken from hm_unset|default('_')."),
    ('malicious/rt1-fn08_loop_cycle.jinja', 'malicious', "'_' from loop.cycle('_')", 'critical', 'template/dunder-access', 'Red team 1: loop.cycle returns one of its constant arguments.'),
    ('malicious/rt1-fn09_filter_block.jinja', 'malicious', "'_' from a {% filter %} block", 'critical', 'template/dunder-access', "Red team 1: a filter block's constant output assigned with a set block."),
    ('malicious/rt1-fn10_default_undefined_attr.jinja', 'malicious', "'_' laundered through messages.nope|default('_')", 'critical', 'template/dunder-access', "Red team 1: an undefined attribute of runtime data defaulted to '_'."),
    ('malicious/rt1-fn11_int_default_arg.jinja', 'malicious', "'x'|int(95) default argument", 'critical', 'template/dunder-access', "Red team 1: |int returns its default argument (95, '_') for a string that is not a number."),
    ('malicious/rt1-fn12_int_float_string.jinja', 'malicious', "'95.0'|int", 'critical', 'template/dunder-access', "Red team 1: Jinja's do_int falls back to int(float(value))."),
    ('malicious/rt1-fn13_int_base16.jinja', 'malicious', "'5f'|int(0, 16)", 'critical', 'template/dunder-access', 'Red team 1: |int with a base.'),
    ('malicious/rt1-fn17_int_sci.jinja', 'malicious', "'9.5e1'|int", 'critical', 'template/dunder-access', 'Red team 1: scientific notation through the float fallback of |int.'),
    ('malicious/rt1-probe-p01.jinja', 'malicious', "'_ _'|wordwrap(1) split and joined", 'critical', 'template/dunder-access', "Red team 1 probe: the '_' of a __class__ key or |attr name is obtained through '_ _'|wordwrap(1) split and joined."),
    ('malicious/rt1-probe-p02.jinja', 'malicious', "['_','_']|batch(1)|map('first')|join", 'critical', 'template/dunder-access', "Red team 1 probe: the '_' of a __class__ key or |attr name is obtained through ['_','_']|batch(1)|map('first')|join."),
    ('malicious/rt1-probe-p03.jinja', 'malicious', "'_'|center(1)", 'critical', 'template/dunder-access', "Red team 1 probe: the '_' of a __class__ key or |attr name is obtained through '_'|center(1)."),
    ('malicious/rt1-probe-p04.jinja', 'malicious', "'%c' % 95 on an integer base", 'critical', 'template/dunder-access', "Red team 1 probe: the '_' of a __class__ key or |attr name is obtained through '%c' % 95 on an integer base."),
    ('malicious/rt1-probe-p05.jinja', 'malicious', 'dict(_=1)|first', 'critical', 'template/dunder-access', "Red team 1 probe: the '_' of a __class__ key or |attr name is obtained through dict(_=1)|first."),
    ('malicious/rt1-probe-p06.jinja', 'malicious', "{'_':1}|dictsort|first|first", 'critical', 'template/dunder-access', "Red team 1 probe: the '_' of a __class__ key or |attr name is obtained through {'_':1}|dictsort|first|first."),
    ('malicious/rt1-probe-p07.jinja', 'malicious', "{'_':1}.items()|list|first|first", 'critical', 'template/dunder-access', "Red team 1 probe: the '_' of a __class__ key or |attr name is obtained through {'_':1}.items()|list|first|first."),
    ('malicious/rt1-probe-p08.jinja', 'malicious', "'a_b'|urlencode indexed", 'critical', 'template/dunder-access', "Red team 1 probe: the '_' of a __class__ key or |attr name is obtained through 'a_b'|urlencode indexed."),
    ('malicious/rt1-probe-p09.jinja', 'malicious', "'_'|tojson indexed", 'critical', 'template/dunder-access', "Red team 1 probe: the '_' of a __class__ key or |attr name is obtained through '_'|tojson indexed."),
    ('malicious/rt1-probe-p10.jinja', 'malicious', 'namespace filled in a loop', 'critical', 'template/dunder-access', "Red team 1 probe: the '_' of a __class__ key or |attr name is obtained through namespace filled in a loop."),
    ('malicious/rt1-probe-p11.jinja', 'malicious', "'-'.join(...).replace", 'critical', 'template/dunder-access', "Red team 1 probe: the '_' of a __class__ key or |attr name is obtained through '-'.join(...).replace."),
    ('malicious/rt1-probe-p12.jinja', 'malicious', '(range(96)|list)[95] through |format', 'critical', 'template/dunder-access', "Red team 1 probe: the '_' of a __class__ key or |attr name is obtained through (range(96)|list)[95] through |format."),
    ('malicious/rt1-probe-p13.jinja', 'malicious', "'{:c}'.format(95)", 'critical', 'template/dunder-access', "Red team 1 probe: the '_' of a __class__ key or |attr name is obtained through '{:c}'.format(95)."),
    ('malicious/rt1-probe-p14.jinja', 'malicious', "'_' if messages else '_'", 'critical', 'template/dunder-access', "Red team 1 probe: the '_' of a __class__ key or |attr name is obtained through '_' if messages else '_'."),
    ('malicious/rt1-probe-p15.jinja', 'malicious', "empty runtime string sliced and joined to '_'", 'critical', 'template/dunder-access', "Red team 1 probe: the '_' of a __class__ key or |attr name is obtained through empty runtime string sliced and joined to '_'."),
    ('malicious/rt1-probe-p16.jinja', 'malicious', '|replace with a runtime count', 'critical', 'template/dunder-access', "Red team 1 probe: the '_' of a __class__ key or |attr name is obtained through |replace with a runtime count."),
    ('malicious/rt1-probe-p17.jinja', 'malicious', "'%c' % 95 through |indent", 'critical', 'template/dunder-access', "Red team 1 probe: the '_' of a __class__ key or |attr name is obtained through '%c' % 95 through |indent."),
    ('malicious/rt1-probe-p18.jinja', 'malicious', "loop|default('_') outside a loop", 'critical', 'template/dunder-access', "Red team 1 probe: the '_' of a __class__ key or |attr name is obtained through loop|default('_') outside a loop."),
    ('malicious/rt1-probe-p19.jinja', 'malicious', "raise_exception|default('_')", 'critical', 'template/dunder-access', "Red team 1 probe: the '_' of a __class__ key or |attr name is obtained through raise_exception|default('_')."),
    ('malicious/rt1-probe-p20.jinja', 'malicious', "('_', messages)[0]", 'critical', 'template/dunder-access', "Red team 1 probe: the '_' of a __class__ key or |attr name is obtained through ('_', messages)[0]."),
    ('malicious/rt1-probe-p21.jinja', 'malicious', "['_', messages]|first", 'critical', 'template/dunder-access', "Red team 1 probe: the '_' of a __class__ key or |attr name is obtained through ['_', messages]|first."),
    ('malicious/rt1-probe-p22.jinja', 'malicious', "{'k': '_', 'm': messages}.k", 'critical', 'template/dunder-access', "Red team 1 probe: the '_' of a __class__ key or |attr name is obtained through {'k': '_', 'm': messages}.k."),
    ('malicious/rt1-probe-p23.jinja', 'malicious', "(messages or true) and '_'", 'critical', 'template/dunder-access', "Red team 1 probe: the '_' of a __class__ key or |attr name is obtained through (messages or true) and '_'."),
    ('malicious/rt1-probe-p24.jinja', 'malicious', "'_' if messages is defined", 'critical', 'template/dunder-access', "Red team 1 probe: the '_' of a __class__ key or |attr name is obtained through '_' if messages is defined."),
    ('malicious/rt1-probe-p25.jinja', 'malicious', "'_'[messages|length*0]", 'critical', 'template/dunder-access', "Red team 1 probe: the '_' of a __class__ key or |attr name is obtained through '_'[messages|length*0]."),
    ('malicious/rt1-probe-p26.jinja', 'malicious', "'_x'[:messages|length*0+1]", 'critical', 'template/dunder-access', "Red team 1 probe: the '_' of a __class__ key or |attr name is obtained through '_x'[:messages|length*0+1]."),
    ('malicious/rt1-probe-p27.jinja', 'malicious', "['_']|first if tools is none else '_'", 'critical', 'template/dunder-access', "Red team 1 probe: the '_' of a __class__ key or |attr name is obtained through ['_']|first if tools is none else '_'."),
    ('benign/rt1-b01_tool_params_dictsort_labels.jinja', 'benign', 'param[field] over a constant dict|dictsort', 'low', '', 'Red team 1 benign: tool parameter fields looked up with keys from a constant dict sorted by |dictsort (gemma-style).'),
    ('benign/rt1-b02_loop_cycle_role_tokens.jinja', 'benign', "role_tokens[loop.cycle('user','assistant')]", 'low', '', 'Red team 1 benign: a role-token dict indexed by loop.cycle of constants.'),
    ('benign/rt1-b03_markdown_bold_system_prompt.jinja', 'benign', 'markdown __bold__ in a system prompt', 'low', '', 'Red team 1 benign: __English__ is markdown bold, not a Python special name (info only).'),
    ('benign/rt1-b04_code_interpreter_prompt.jinja', 'benign', 'code-interpreter prompt mentioning os.system', 'low', '', 'Red team 1 benign: prose in template data (not string literals) about subprocess and __name__.'),
    ('benign/rt1-b05_media_marker.jinja', 'benign', '<__media__> marker in template text', 'low', '', 'Red team 1 benign: llama.cpp-style media marker in template data.'),
    ('benign/rt1-b06_field_macro.jinja', 'benign', 'map(attribute=field) with field a macro parameter', 'low', '', 'Red team 1 benign: the attribute name is a macro parameter; every call site passes a constant.'),
    ('benign/rt1-b07_sort_by_param.jinja', 'benign', 'sort(attribute=order_key) from render data', 'low', '', 'Red team 1 benign: the sort key comes from a render variable with a constant default (low: render-time attribute name).'),
    ('benign/rt1-b08_content_keys_loop.jinja', 'benign', 'ns.sys assigned by the template; message[content_key]', 'low', '', "Red team 1 benign: a namespace field named sys is the template's own data."),
    ('benign/rt1-b09_private_meta_key.jinja', 'benign', "message['_hidden'] item key", 'low', '', 'Red team 1 benign: an underscore key on message data (low).'),
    ('benign/rt1-b10_python_tool_example.jinja', 'benign', 'tool-call example naming subprocess.__doc__', 'high', '', "Red team 1 benign twin kept at high on purpose: a string literal naming a Python special attribute (__doc__) is reported high even in prose, and 'subprocess' medium; the file must not go above high."),
    ('benign/rt1-b11_lang_dict_lookup.jinja', 'benign', 'greetings[lang] with lang from render data', 'low', '', 'Red team 1 benign: a constant dict indexed by a runtime key.'),
    ('benign/rt1-b12_tojson_indent.jinja', 'benign', 'tools|tojson(indent=2)', 'low', '', "Red team 1 benign: map(attribute='function.name') and tojson."),
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
    for path, kind, trick, sev, expect, note in KEPT:
        if not os.path.exists(os.path.join(ROOT, path)):
            raise SystemExit("missing kept fixture " + path)
        manifest.append({"file": path, "kind": kind, "trick": trick,
                         "expect_min_severity": sev, "expect": expect, "note": note})
    with open(os.path.join(ROOT, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=1, ensure_ascii=False)
        f.write("\n")
    kept_mal = sum(1 for k in KEPT if k[1] == "malicious")
    print(len(MALICIOUS) + len(HIDDEN) + kept_mal, "malicious,", len(BENIGN) + len(KEPT) - kept_mal, "benign")


main()
