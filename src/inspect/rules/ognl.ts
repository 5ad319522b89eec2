// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the strings are expression payloads, not placeholders
/**
 * The OGNL family: expression language injection into Java applications. Struts evaluates OGNL
 * (`%{...}`, and in old versions parameter *names*), JSP and JSF evaluate EL (`${...}`, `#{...}`),
 * Spring evaluates SpEL (`T(java.lang.Runtime)`). Each reaches Java's reflection, and from there
 * `Runtime.exec`. The rules look for the expression syntax together with what it reaches; a
 * request rule reads parameter and cookie names, where old Struts evaluated OGNL. Class-loader
 * property paths in names (`class.module.classLoader...`, Spring4Shell) are EXPLOIT_CLASSLOADER_NAME's.
 */
import type { RequestRule, ValueRule } from "../types.ts";
import { SP0, SP1 } from "./injection-fragments.ts";

/** Java classes an expression reaches for to run a program or bypass the sandbox. */
const DANGEROUS_CLASS =
  "(?:runtime|processbuilder|system|class|classloader|thread|reflect\\.[a-z]+|invoke\\.[a-z]+)";
/** What an expression calls to reach reflection, a class loader or a process. */
const REFLECTION =
  `(?:getruntime${SP0}\\(|processbuilder|\\.exec${SP0}\\(|\\.getclass${SP0}\\(|forname${SP0}\\(|\\.getmethod${SP0}\\(` +
  `|\\.getdeclared(?:method|field|constructor)s?${SP0}\\(|\\.invoke${SP0}\\(|classloader|scriptengine|\\.newinstance${SP0}\\(|javax\\.script|java\\.lang\\.|@java\\.)`;

/** Substrings of a parameter or cookie name (lower case) that only an OGNL expression has. */
const NAME_MARKERS = ["_memberaccess", "\\u0023", "@java.", "#context["];

/**
 * Why `name` is an OGNL expression, or undefined.
 *
 * @example expressionInName("('\\u0023_memberAccess[\\'allowStaticMethodAccess\\']')(meh)") // "_memberaccess"
 */
export function expressionInName(name: string): string | undefined {
  const lower = name.toLowerCase();
  const marker = NAME_MARKERS.find((m) => lower.includes(m));
  if (marker !== undefined) return marker;
  // `(expr)(x)` and `top['name'](0)` evaluate an expression; `#var` and `@Class@` are OGNL's own
  const evaluates = lower.startsWith("(") || lower.includes(")(") || lower.includes("](");
  if (lower.includes("(") && (evaluates || lower.includes("#") || lower.includes("@")))
    return "expression syntax";
  return undefined;
}

/** Expressions in parameter and cookie names. */
export const OGNL_REQUEST_RULES: readonly RequestRule[] = [
  {
    key: "OGNL_PARAMETER_NAME",
    family: "OGNL",
    level: "Basic",
    description:
      "A parameter or cookie name that is an OGNL expression (('\\u0023_memberAccess...')(x), top['x'](0), (#a=...)(b))",
    check: (request) => {
      for (const value of request.values) {
        if ((value.target !== "Parameter" && value.target !== "Cookie") || value.name === undefined) continue;
        const why = expressionInName(value.name);
        if (why !== undefined) return `${value.target} name "${value.name.slice(0, 64)}" contains ${why}`;
      }
      return undefined;
    },
  },
];

/** Expression language injection rules on values. */
export const OGNL_RULES: readonly ValueRule[] = [
  // ---------------------------------------------------------------------------------------- Basic
  {
    key: "OGNL_MEMBER_ACCESS",
    family: "OGNL",
    level: "Basic",
    regex:
      `#_memberaccess|#context${SP0}[\\[\\.]${SP0}['"]?(?:com\\.opensymphony|get|set|xwork|struts)|ognl(?:context|util)|@ognl\\.` +
      `|com\\.opensymphony\\.xwork2|default_member_access|\\.(?:get|set)excluded(?:package)?(?:names|classes)${SP0}\\(|#dm${SP0}=`,
    description:
      "Struts OGNL that switches off the sandbox: #_memberAccess, #context['com.opensymphony...'], OgnlUtil",
    examples: [
      "%{(#_memberAccess['allowStaticMethodAccess']=true)}",
      "(#context['xwork.MethodAccessor.denyMethodExecution']=false)",
      "#dm=@ognl.OgnlContext@DEFAULT_MEMBER_ACCESS",
      "(#ognlUtil=#container.getInstance(@com.opensymphony.xwork2.ognl.OgnlUtil@class))",
      "#ognlUtil.getExcludedPackageNames().clear()",
    ],
    benign: ["#context matters", "ognl is a language", "#contextual", "member access"],
  },
  {
    key: "OGNL_STATIC_JAVA_CALL",
    family: "OGNL",
    level: "Basic",
    regex:
      `@java\\.lang\\.${DANGEROUS_CLASS}@|@(?:java\\.io|java\\.nio|org\\.apache\\.commons\\.io)\\.[a-z0-9_\\.]+@` +
      `|(?:^|[^a-z0-9_])t${SP0}\\(${SP0}(?:java\\.lang\\.)?(?:runtime|processbuilder|system|class|thread|classloader)${SP0}\\)`,
    description:
      "A static call into java.lang from OGNL (@java.lang.Runtime@getRuntime()) or SpEL (T(java.lang.Runtime))",
    examples: [
      "@java.lang.Runtime@getRuntime().exec('id')",
      "${T(java.lang.Runtime).getRuntime().exec('id')}",
      "#{T(Runtime).getRuntime().exec('id')}",
      "@org.apache.commons.io.IOUtils@toString(x)",
      "T( java.lang.System ).getenv()",
    ],
    benign: ["java.lang.Runtime", "T(n) = O(n log n)", "Runtime: 2h", "at(system)", "me@java.lang.org"],
  },
  {
    key: "OGNL_EXPRESSION_EXEC",
    family: "OGNL",
    level: "Basic",
    regex: `(?:%\\{|\\$\\{|#\\{)[^}\\n]*${REFLECTION}|%\\{${SP0}\\(*${SP0}#[a-z_]`,
    description:
      "An OGNL/EL/SpEL expression that reaches reflection, a class loader or a process, or a Struts %{#...} expression",
    examples: [
      "%{(#cmd='id').(#p=new java.lang.ProcessBuilder(#cmd)).(#p.start())}",
      "${''.getClass().forName('java.lang.Runtime')}",
      "#{request.getClass().getClassLoader()}",
      "${pageContext.request.getSession().getServletContext().getClassLoader()}",
      "%{#a=1}",
      "${''.class.forName('javax.script.ScriptEngineManager').newInstance()}",
    ],
    benign: ["${name}", "%{count} items", "${user.getName()}", "#{bean.value}", "Hello %{name}, welcome!"],
  },
  // ------------------------------------------------------------------------------------- Standard
  {
    key: "OGNL_JAVA_EXECUTION",
    family: "OGNL",
    level: "Standard",
    regex:
      `runtime${SP0}\\.${SP0}getruntime${SP0}\\(${SP0}\\)${SP0}\\.${SP0}exec${SP0}\\(|new${SP1}(?:java\\.lang\\.)?processbuilder${SP0}\\(` +
      `|new${SP1}javax\\.script\\.scriptenginemanager|forname${SP0}\\(${SP0}['"]java\\.lang\\.(?:runtime|processbuilder)|\\.getmethod${SP0}\\(${SP0}['"](?:exec|getruntime|start)['"]`,
    description:
      "Java that runs a program: Runtime.getRuntime().exec(, new ProcessBuilder(, ScriptEngineManager, reflection on Runtime",
    examples: [
      'Runtime.getRuntime().exec("id")',
      'new ProcessBuilder("id").start()',
      "new java.lang.ProcessBuilder({'id'})",
      "Class.forName('java.lang.Runtime')",
      "x.getMethod('exec', String.class)",
    ],
    benign: ["runtime error", "a process builder", "getRuntime", "Class.forName(name)"],
  },
  {
    key: "OGNL_EL_IMPLICIT_OBJECT",
    family: "OGNL",
    level: "Standard",
    regex: `[$#]\\{${SP0}(?:pagecontext|applicationscope|sessionscope|requestscope|facescontext|initparam|headervalues|paramvalues|servletcontext)(?:${SP0}[\\.\\[]|${SP0}\\})`,
    description:
      "JSP and JSF implicit objects in an expression (${pageContext...}, #{facesContext...}, ${applicationScope})",
    examples: [
      "${pageContext.request.serverName}",
      "#{facesContext.externalContext}",
      "${applicationScope}",
      "${initParam['db']}",
    ],
    benign: ["${page}", "${context.x}", "pageContext is a JSP object"],
  },
  {
    key: "OGNL_VARIABLE_ASSIGNMENT",
    family: "OGNL",
    level: "Standard",
    regex: `\\(${SP0}#[a-z_][a-z0-9_]*${SP0}=(?:[^=]|$)|#[a-z_][a-z0-9_]*${SP0}=${SP0}(?:@|new${SP1}|#)`,
    description:
      "OGNL variable assignments ((#cmd='id'), #a=@java..., #p=new ...), the building blocks of Struts exploits",
    examples: [
      "(#cmd='whoami')",
      "(#iswin=(@java.lang.System@getProperty('os.name')))",
      "#p=new java.io.File('x')",
      "#a=#b",
    ],
    benign: ["(#1 seller)", "#tag", "(#a == b)", "#header = title"],
  },
  {
    key: "OGNL_STATIC_REFERENCE",
    family: "OGNL",
    level: "Standard",
    regex: "@[a-z_$][a-z0-9_$]*(?:\\.[a-z_$][a-z0-9_$]*)+@[a-z_$]",
    description: "Any OGNL static member reference @package.Class@member",
    examples: [
      "@org.apache.struts2.ServletActionContext@getResponse()",
      "@java.util.UUID@randomUUID()",
      "@a.b@c",
    ],
    benign: ["jane@example.com", "a@b.c d@e.f", "@user.name"],
  },
  {
    key: "OGNL_SPEL_TYPE",
    family: "OGNL",
    level: "Standard",
    regex: `(?:^|[^a-z0-9_])t${SP0}\\(${SP0}[a-z_$][a-z0-9_$]*(?:\\.[a-z_$][a-z0-9_$]*){2,}${SP0}\\)`,
    description: "A SpEL type reference to a fully qualified class: T(org.springframework.util.StreamUtils)",
    examples: [
      "T(org.springframework.util.StreamUtils).copy(x)",
      "T(java.util.Base64).getDecoder()",
      "t(a.b.c)",
    ],
    benign: ["T(n.m)", "T(x)", "at(a.b.c)"],
  },
  // --------------------------------------------------------------------------------------- Strict
  {
    key: "OGNL_EXPRESSION_DELIMITER",
    family: "OGNL",
    level: "Strict",
    regex: "%\\{[^}\\n]*\\}|#\\{[^}\\n]*\\}",
    description: "Any OGNL %{...} or JSF #{...} expression, including i18n placeholders such as %{name}",
    examples: ["%{name}", "#{bean.value}", "Hello %{name}, welcome!"],
    benign: ["%name", "#name", "{x}"],
  },
  {
    key: "OGNL_JAVA_REFLECTION",
    family: "OGNL",
    level: "Strict",
    regex: REFLECTION,
    description:
      "Java reflection and class loading anywhere in a value (getClass(), forName(, getMethod(, classLoader)",
    examples: ["x.getClass()", "Class.forName(n)", "classLoader", "m.invoke(o)"],
    benign: ["class loading", "get class"],
  },
];
