// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the strings are template payloads, not placeholders
/**
 * The TEMPLATE family: server-side template injection. A value that a server renders as a template
 * (Jinja2, Twig, Nunjucks, Handlebars, Freemarker, Velocity, ERB, Smarty, Thymeleaf...) runs
 * whatever its expressions reach. Placeholders such as `{{ user.name }}` and `${HOME}` are common
 * in ordinary text and code, so the rules want either what only an attack puts inside a
 * delimiter (a walk to Python's object graph, a call that runs a program, an engine's escape
 * hatch), or, from Standard on, the arithmetic probe that tells an attacker a template was
 * evaluated (`{{7*7}}`).
 */
import type { ValueRule } from "../types.ts";
import { SP0, SP1, WS0 } from "./injection-fragments.ts";

/** Expression and statement openers with braces: `{{`, `{%`, `${`, `#{`, `*{`, `@{` (`<%` is its own case). */
const OPEN_BRACE = "(?:\\{\\{|\\{%|\\$\\{|#\\{|\\*\\{|@\\{)";
/** Python attributes that lead from any object to classes, modules and builtins. */
const PYTHON_WALK =
  "__(?:mro|base|bases|subclasses|globals|builtins|import|code|closure|getattribute|init)__";
/** Calls that run a program or evaluate code, in the languages template engines are written in. */
const EXECUTION_SINK = `(?:popen|subprocess|os\\.system|\\.system${SP0}\\(|(?:^|[^a-z0-9_\\.])(?:exec|eval|system|spawn|spawnsync|execsync)${SP0}\\(|child_process|process\\.mainmodule|global\\.process|getruntime${SP0}\\(|processbuilder|\\.constructor${SP0}\\.${SP0}constructor|constructor${SP0}\\(${SP0}['"]|io\\.popen|kernel\\.(?:exec|system|spawn|open|eval)|%x\\()`;

/** Server-side template injection rules. */
export const TEMPLATE_RULES: readonly ValueRule[] = [
  // ---------------------------------------------------------------------------------------- Basic
  {
    key: "TEMPLATE_PYTHON_OBJECT_WALK",
    family: "TEMPLATE",
    level: "Basic",
    regex:
      `\\{[{%][^\\n]*(?:${PYTHON_WALK}|__class__|\\|${SP0}attr${SP0}\\()` +
      // without a delimiter only a walk that reaches code: __class__.__mro__ alone is Python docs
      `|__(?:class|init|base|bases|mro)__[^\\n]*__(?:subclasses|globals|builtins|import)__`,
    description:
      "A Jinja2/Django-style expression that walks from an object to classes and builtins (''.__class__.__mro__, |attr())",
    examples: [
      "{{ ''.__class__.__mro__[1].__subclasses__() }}",
      "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
      "{% for c in [].__class__.__base__.__subclasses__() %}",
      "{{ request|attr('application')|attr('\\x5f\\x5fglobals\\x5f\\x5f') }}",
      "''.__class__.__mro__[2].__subclasses__()",
      "x.__init__['__globals__']",
    ],
    benign: [
      "def __init__(self):",
      "self.__class__.__name__",
      'see "a.__class__.__mro__" for the order',
      "x.__init__.__doc__",
      "{{ user.name }}",
      "{% if user %}hi{% endif %}",
      "__main__",
    ],
  },
  {
    key: "TEMPLATE_CODE_EXECUTION",
    family: "TEMPLATE",
    level: "Basic",
    // backticks run a command in Ruby (ERB, #{}) but are string templates in JavaScript (${})
    regex: `${OPEN_BRACE}[^}\\n]*${EXECUTION_SINK}|<%[^%\\n]*${EXECUTION_SINK}|(?:<%|#\\{)[^%}\\n]*\`[^\`\\n]+\``,
    description:
      "A template expression that runs a program or evaluates code: <%= system('id') %>, {{constructor.constructor(...)()}}",
    examples: [
      "<%= system('id') %>",
      "<%= `id` %>",
      "{{constructor.constructor('return process')()}}",
      "${T(java.lang.Runtime).getRuntime().exec('id')}",
      "#{%x(id)}",
      "{{range.constructor(\"return global.process.mainModule.require('child_process').execSync('id')\")()}}",
      "<% IO.popen('id').read %>",
      "${new java.lang.ProcessBuilder('id').start()}",
    ],
    benign: [
      "${name}\nran eval(x)",
      "${items.map((i) => `<li>${i}</li>`)}",
      "const t = `${a}`; re.exec(t)",
      "{{ user.system_name }}",
      "<% if (x) { %>",
      "${file.executable}",
    ],
  },
  {
    key: "TEMPLATE_ENGINE_ESCAPE",
    family: "TEMPLATE",
    level: "Basic",
    regex:
      `freemarker\\.template\\.utility|\\?new${SP0}\\(${SP0}\\)|\\?api\\.|\\$class\\.(?:inspect|type|forname)${SP0}\\(` +
      `|_self\\.env\\.|registerundefinedfiltercallback|\\|${SP0}(?:filter|map|reduce|sort)${SP0}\\(${SP0}['"](?:system|exec|passthru|shell_exec|popen|proc_open|assert|call_user_func)['"]` +
      `|\\{${SP0}php${SP0}\\}|\\{${SP0}(?:system|exec|passthru|shell_exec)${SP0}\\(`,
    description:
      "Escape hatches of Freemarker (?new(), ?api), Velocity ($class.inspect), Twig (_self.env, |filter('system')) and Smarty ({php})",
    examples: [
      '<#assign ex="freemarker.template.utility.Execute"?new()>${ex("id")}',
      "${product.getClass().getProtectionDomain()?api.getCodeSource()}",
      '$class.inspect("java.lang.Runtime")',
      '{{_self.env.registerUndefinedFilterCallback("exec")}}',
      "{{['id']|filter('system')}}",
      "{{['cat /etc/passwd']|map('passthru')}}",
      "{php}echo `id`;{/php}",
      "{system('id')}",
    ],
    benign: ["?new=1", "a|filter('name')", "the $class variable", "php {version} is out", "_self"],
  },
  // ------------------------------------------------------------------------------------- Standard
  {
    key: "TEMPLATE_ARITHMETIC_PROBE",
    family: "TEMPLATE",
    level: "Standard",
    regex: `(?:${OPEN_BRACE}|\\$\\{\\{|<%=?|\\[\\[\\$?\\{?)${WS0}['"]?[0-9]+['"]?${WS0}\\*${WS0}['"]?[0-9]+['"]?${WS0}(?:\\}|%|\\]\\])`,
    description:
      "The probe that shows a template was evaluated: {{7*7}}, ${7*7}, <%= 7*7 %>, #{7*7}, {{7*'7'}}",
    examples: [
      "{{7*7}}",
      "${7*7}",
      "<%= 7*7 %>",
      "#{7*7}",
      "{{7*'7'}}",
      "${{7*7}}",
      "*{7*7}",
      "[[${7*7}]]",
      "{% 7*7 %}",
    ],
    benign: ["7*7=49", "{{ price }} * 2", "{7*7}", "${a*b}", "@(555-1234)"],
  },
  {
    key: "TEMPLATE_GLOBAL_OBJECT",
    family: "TEMPLATE",
    level: "Standard",
    regex: `\\{\\{${SP0}(?:config|self|settings|request\\.(?:application|environ|__)|lipsum|cycler|joiner|namespace|_self|get_flashed_messages|url_for|range\\.constructor)(?:${SP0}\\}\\}|${SP0}[\\.\\[|(])|\\{\\{${SP0}dump${SP0}\\(${SP0}app${SP0}\\)`,
    description:
      "Template globals that expose the application's configuration or a way to its code: {{config}}, {{self}}, {{lipsum.__globals__}}",
    examples: [
      "{{config}}",
      "{{ config.items() }}",
      "{{self}}",
      "{{ settings.SECRET_KEY }}",
      "{{request.application}}",
      "{{ dump(app) }}",
    ],
    benign: ["{{ configuration }}", "{{ user.config }}", "{{ self_service_url }}", "{{ request.user.name }}"],
  },
  {
    key: "TEMPLATE_DIRECTIVE",
    family: "TEMPLATE",
    level: "Standard",
    regex:
      `\\{%${SP0}(?:import|from${SP1}[a-z_\\.]+${SP1}import|include|extends|debug|php|python|load)(?:${SP1}|%|-)` +
      `|<#(?:assign|include|import|attempt|setting)(?:${SP1}|>)` +
      `|(?:^|[^a-z0-9_&])#(?:set|evaluate|parse|include|define)${SP0}\\(${SP0}[$'"]`,
    description:
      "Template statements that import code or include files: {% import os %}, {% include %}, <#assign>, Velocity #set($x=...)",
    examples: [
      "{% import os %}",
      "{% include '/etc/passwd' %}",
      "{%from os import popen%}",
      '<#assign x="y">',
      "#set($x = $y.getClass())",
      "#evaluate('x')",
    ],
    benign: ["{% raw %}{{x}}{% endraw %}", "{% if user %}", "#set the table", "#include <stdio.h>", "&#set("],
  },
  {
    key: "TEMPLATE_ERB_CODE",
    family: "TEMPLATE",
    level: "Standard",
    regex: `<%[=#-]?${SP0}[^%\\n]*[\\.(\`][^%\\n]*%>`,
    description: "ERB, EJS, JSP or ASP code with a method call between <% and %>",
    examples: ["<%= File.read('/etc/passwd') %>", "<% Dir.entries('/') %>", "<%= process.env.SECRET %>"],
    benign: ["<% if x %>", "<%= name %>", "50%< 60%>", "<%%>"],
  },
  // --------------------------------------------------------------------------------------- Strict
  {
    key: "TEMPLATE_EXPRESSION_ANY",
    family: "TEMPLATE",
    level: "Strict",
    regex: `\\{\\{[^}\\n]*\\}\\}|\\$\\{[^}\\n]+\\}|#\\{[^}\\n]+\\}|<%[^\\n]*%>|\\{%[^\\n]*%\\}|<#[a-z]`,
    description: "Any template expression or statement ({{...}}, ${...}, #{...}, <%...%>, {%...%}, <#...)",
    examples: [
      "The {{ placeholder }} gets replaced",
      "${HOME}",
      "#{name}",
      "<% x %>",
      "{% if a %}",
      "<#list x as y>",
    ],
    benign: ["{ a: 1 }", "# heading", "{}", "50% off"],
  },
];
