/**
 * The SQL injection rules of the inspector (migrated from the RBAC rules of src/translate/deny-rules/,
 * same keys). Values arrive decoded (src/inspect/decode.ts: percent-encoding, `+` in query and form
 * values, HTML entities), so the patterns spell each character once; the few rules that look for
 * an encoding itself match the raw value (`input: "raw"`).
 */
import type { ValueRule } from "../types.ts";

// Fragments in the decoded form the inspector matches.
/** `'` or `"`: the quotes that end an SQL string literal or an HTML attribute value. */
const QUOTE = `['"]`;
const OPEN_PAREN = String.raw`\(`;
const CLOSE_PAREN = String.raw`\)`;
const SEMICOLON = ";";
const SLASH = "/";
const STAR = String.raw`\*`;
const AT = "@";
const COMMA = ",";
const DOT = String.raw`\.`;
const DASH = "-";
const PIPE = String.raw`\|`;
const AMPERSAND = "&";
const EXCLAMATION = "!";
const HASH = "#";
/** A comparison operator as SQL writes it: `=`, `<`, `>`, `<>`, `!=`, `>=`, `==`... */
const COMPARISON = "[=<>!]+";
/**
 * One whitespace character as SQL and HTML parsers accept it: space, tab, LF, VT, FF, CR and NBSP
 * (MySQL treats it as a space in some character sets). A `+` in a query or form value has been
 * decoded to a space already.
 */
const SPACE = "[ \\t\\n\\v\\f\\r\u00a0]";
/**
 * An SQL block comment (slash-star to star-slash, MySQL's versioned `/*!50000` included), which every
 * dialect accepts wherever a space may stand.
 */
const BLOCK_COMMENT = String.raw`/\*.*\*/`;
/** One or more spaces: token separation where a separate rule looks for comments. */
const SPACES = `${SPACE}+`;
/** Optional spaces. */
const OPTIONAL_SPACES = `${SPACE}*`;
/** An SQL line comment (`--` or `#`) up to the newline that ends it, which also stands in for a space. */
const LINE_COMMENT = String.raw`(?:--|#).*\n`;
/** SQL token separation: one or more spaces or block comments. */
const GAP = `(?:${SPACE}|${BLOCK_COMMENT})+`;
/** Optional SQL token separation. */
const OPTIONAL_GAP = `(?:${SPACE}|${BLOCK_COMMENT})*`;
/** What may stand before a word for it to start a token: the start or a non-word character. */
const WORD_START = "(?:^|[^0-9a-z_])";

// Shorthands for the patterns below; each is a regex fragment from spellings.ts.
const Q = QUOTE;
const G = GAP;
const G0 = OPTIONAL_GAP;
const S = SPACES;
const S0 = OPTIONAL_SPACES;
const LP = OPEN_PAREN;
const RP = CLOSE_PAREN;
/** A boolean connective (`or`, `and`, `xor`, `||`, `&&`), or HAVING, which starts a condition too. */
const BOOL = `(?:or|and|xor|having|${PIPE}{2}|${AMPERSAND}{2})`;
/**
 * What only SQL puts after a connective: a subquery, a probing function, EXISTS. ("1 or 2 apples"
 * and "deep learning" OR "machine learning" are prose and search syntax; these are not.)
 */
const SQL_OPERAND = `(?:${LP}${S0}select${S}|(?:ascii|ord|substr|substring|mid|length|char|exists|if|sleep)${S0}${LP})`;
/** A quote closing a string literal, then a connective and what stands between it and its operand. */
const QUOTE_CONNECTIVE = `${Q}${RP}*${S0}${BOOL}(?:${S}|${Q}|${LP})*`;
/** SQL keywords an injection strings together; a comment next to one stands in for a space. */
const KEYWORD =
  "(?:union|select|from|where|and|or|xor|not|having|order|group|by|limit|insert|into|update|set|delete|drop|truncate|exec|execute|declare|shutdown|waitfor|sleep|benchmark|like|rlike|regexp|between|case|when|null|procedure)";
/** A statement separator after a quote, `)` or number: the end of an injected value. */
const STACKED = `(?:${Q}|${RP}|[0-9])${OPTIONAL_SPACES}${SEMICOLON}${OPTIONAL_SPACES}`;
/** End of the injected statement: a line comment, the end of the parameter, or the end of the value. */
const STATEMENT_END = `(?:${DASH}{2}|${HASH}|${SEMICOLON}|&|$)`;

/**
 * The SQL injection family. Each pattern describes how an attacker leaves a string or number
 * literal and continues in SQL; words that also occur in prose ("select", "union", "drop") are only
 * caught together with the syntax around them.
 */
export const SQL_RULES: readonly ValueRule[] = [
  // ---------------------------------------------------------------------------------------- Basic
  {
    key: "SQL_QUOTE_BOOLEAN",
    family: "SQL",
    level: "Basic",
    // quote, optional `)`, a connective, then a comparison: ' or 1=1, ' or 'a'='a, ") or ("x"="x
    regex: `${Q}${RP}*${G0}${BOOL}(?:${G}|${Q}|${LP})+[0-9a-z_\\.]*${Q}?${S0}${COMPARISON}${S0}(?:${Q}|${LP}|[0-9a-z_@-])`,
    description: "Quote closing a string literal, then OR/AND and a comparison (tautology)",
    examples: [
      "1' or 1=1--",
      "x' OR '1'='1",
      "' or '1'='1",
      "admin' or 1=1",
      `") or ("a"="a`,
      "' or 1=1",
      "'/**/or/**/1=1",
      "'||'1'='1",
      "'or''='",
      "1' and 2>1 -- ",
    ],
    benign: [
      "O'Brien",
      "O'Brien and Smith",
      "rock 'n' roll",
      `{"name":"x","a":1}`,
      "it's or it isn't",
      "'orange'",
    ],
  },
  {
    key: "SQL_UNION_SELECT",
    family: "SQL",
    level: "Basic",
    regex: `union(?:${G}|${LP})+(?:(?:all|distinct)(?:${G}|${LP})+)?select(?:${G}|${LP}|${STAR}|${Q}|${AT})`,
    description: "UNION [ALL|DISTINCT] SELECT that appends attacker rows to a query",
    examples: [
      "1 union select 1,2",
      "1 UNION ALL SELECT null",
      "-1 union select password",
      "1/**/UnIoN/**/SeLeCt/**/1",
      "1/**/union/**/select/**/1",
      "x')union(select(1))",
      "1\nunion\ndistinct\nselect\n1",
      "1 union/*!50000*/select 1",
    ],
    benign: ["select your union rep", "credit union selection", "union station", "european-union/select"],
  },
  {
    key: "SQL_STACKED_DROP",
    family: "SQL",
    level: "Basic",
    regex: `${SEMICOLON}${G0}(?:drop|truncate)${G}(?:table|database|schema)`,
    description: "A second statement that drops or truncates a table, database or schema",
    examples: [
      "1; drop table users",
      "x';DROP TABLE users--",
      "1;truncate table logs",
      "1;/**/drop/**/database/**/x",
    ],
    benign: ["drop me a line", "a; drop shipping", "how to drop a table"],
  },
  {
    key: "SQL_COMMAND_EXECUTION",
    family: "SQL",
    level: "Basic",
    regex: `xp_(?:cmdshell|regread|regwrite|dirtree|fileexist|servicecontrol)|sp_(?:oacreate|oamethod|makewebtask|execute_external_script)`,
    description: "SQL Server procedures that run commands or touch the file system and registry",
    examples: ["1;exec master..xp_cmdshell 'dir'", "1;EXEC xp_dirtree '\\\\x\\y'", "sp_OACreate"],
    benign: ["xp_points", "sp_500"],
  },
  {
    key: "SQL_FILE_ACCESS",
    family: "SQL",
    level: "Basic",
    regex: `(?:load_file|pg_read_file|pg_read_binary_file|pg_ls_dir|lo_import)${G0}${LP}|into${G}(?:out|dump)file`,
    description: "Reading or writing server files from SQL (LOAD_FILE, INTO OUTFILE, pg_read_file)",
    examples: [
      "1 union select load_file('/etc/passwd')",
      "1 into outfile '/var/www/x.php'",
      "pg_read_file('/etc/passwd')",
      "x INTO DUMPFILE '/tmp/x'",
    ],
    benign: ["load the file", "into outer space", "loadfile"],
  },
  // ------------------------------------------------------------------------------------- Standard
  {
    key: "SQL_COMMENTED_KEYWORD",
    family: "SQL",
    level: "Standard",
    // the Standard and Strict rules separate tokens by spaces only; this one catches the comments
    // (tamper tools replace every space, so the comment after a keyword is enough)
    regex: `${WORD_START}${KEYWORD}(?:${BLOCK_COMMENT}|${LINE_COMMENT})`,
    description:
      "SQL keyword followed by a comment that stands in for a space (1/**/or/**/1=1, union#%0aselect)",
    examples: [
      "1/**/or/**/1=1",
      "1;delete/**/from users",
      "x'and/**/1=1",
      "1/**/OR/**/1",
      "1 union#x\nselect 1",
      "1 union--\nselect 1",
      "1 having/*x*/1",
    ],
    benign: ["src/**/select.ts", "color/*red*/", "a/*b*/c", "and/or"],
  },
  {
    key: "SQL_NUMERIC_BOOLEAN",
    family: "SQL",
    level: "Standard",
    regex: `[0-9]${RP}*${S0}${BOOL}${S0}(?:${LP}*[0-9]+${S0}${COMPARISON}${S0}${LP}*[0-9]|${SQL_OPERAND})`,
    description:
      "Numeric literal followed by OR/AND and a comparison, subquery or probing function (1 or 1=1)",
    examples: [
      "1 or 1=1",
      "1 OR 2>1",
      "1) and (1=2",
      "5||1=1",
      "-1 or 3<>4",
      "1 and (select count(*) from users)>0",
      "1 AND ascii(substring(user(),1,1))>64",
      "1 and exists(select 1)",
    ],
    benign: ["1 or 2 apples", "size 8 or 9", "top 10 and more", "1 or (2)", "1 and charts"],
  },
  {
    key: "SQL_QUOTE_BOOLEAN_OPERATOR",
    family: "SQL",
    level: "Standard",
    // after the connective, an SQL operator; a quoted phrase OR another one is search syntax
    regex: `${QUOTE_CONNECTIVE}[0-9a-z_\\.]*${Q}?${S}(?:like|rlike|regexp|between|is${S}(?:not${S})?null|in${S0}${LP})`,
    description: "Quote closing a string literal, then OR/AND and LIKE, REGEXP, BETWEEN, IN (...) or IS NULL",
    examples: ["x' or 'a' like 'a", "1' and 1 in (select 1)", "1' or x is null--", "x' OR 'a' REGEXP 'a"],
    benign: [`"deep learning" OR "machine learning"`, `"cats" and "dogs"`, "'hello' and 'bye' inside"],
  },
  {
    key: "SQL_QUOTE_BOOLEAN_SUBQUERY",
    family: "SQL",
    level: "Standard",
    regex: `${QUOTE_CONNECTIVE}(?:(?:[0-9]+|true|false|null)${S0}${STATEMENT_END}|${SQL_OPERAND})`,
    description:
      "Quote closing a string literal, then OR/AND and TRUE, a bare number, a subquery or a probing function",
    examples: [
      "x' or true--",
      "x' or 1--",
      "1' AND substring(version(),1,1)='5",
      "x' and (select 1 from dual)",
      "x' or 1",
    ],
    benign: [
      `"foo" AND NOT "bar"`,
      "'hello' and 'bye'",
      "O'Brien and Smith",
      "rock 'n' roll or jazz",
      "'a' or 2 more",
    ],
  },
  {
    key: "SQL_STACKED_QUERY",
    family: "SQL",
    level: "Standard",
    regex: `${STACKED}(?:(?:delete|insert|replace)${S}(?:from|into)|update${S}[^ +%]+${S}set|(?:alter|create)${S}(?:table|user|database|function|procedure|trigger))`,
    description: "A second SQL statement that writes data or changes the schema (stacked queries)",
    examples: [
      "1; delete from users",
      "x'; insert into users values(1)",
      "1;update users set admin=1",
      "1;create user x",
      "x'); alter table t",
    ],
    benign: ["step 1; create an account", "1; update your profile", "a; delete it", "2; insert coin"],
  },
  {
    key: "SQL_STACKED_EXECUTION",
    family: "SQL",
    level: "Standard",
    regex: `${STACKED}(?:exec(?:ute)?${S0}(?:${AT}|${LP}|xp_|sp_|master)|declare${S}${AT}|select${S0}(?:${STAR}|${AT}|${LP}|null(?:[^0-9a-z_]|$)|[a-z_]+${LP})|shutdown${S0}${STATEMENT_END})`,
    description: "A second SQL statement that runs a query, a procedure or a shutdown (stacked queries)",
    examples: [
      "');exec('cmd')",
      "1;declare @x int",
      "1;select @@version",
      "1;shutdown--",
      "x';select pg_sleep(5)--",
      "1;select null,null",
      "1; EXEC master..sp_who",
    ],
    benign: ["step 1; select the file", "1; select user name", "1; execute the plan", "1; shutdown the pc"],
  },
  {
    key: "SQL_TIME_DELAY",
    family: "SQL",
    level: "Standard",
    // a number must be followed by `)`, `,` or an operator: "sleep(8 hours)" is prose
    regex: `(?:sleep(?:_for|_until)?|benchmark)${LP}${S0}(?:[0-9\\.]+${S0}(?:${RP}|${COMMA}|${STAR}|[-/])|${LP}|${Q}|if|select)|waitfor${S}(?:delay|time)${S0}${Q}|dbms_(?:lock${DOT}sleep|pipe${DOT}receive_message)|randomblob${S0}${LP}`,
    description: "Time delays used for blind injection (SLEEP, BENCHMARK, WAITFOR DELAY, pg_sleep)",
    examples: [
      "1 and sleep(5)",
      "1' AND SLEEP(5)--",
      "1;select pg_sleep(10)",
      "1 and benchmark(5000000,md5(1))",
      "1';waitfor delay '0:0:5'--",
      "1;waitfor delay '0:0:5'",
      "1 and dbms_lock.sleep(5)",
    ],
    benign: ["need sleep (8 hours)", "sleep(8 hours)", "sleep well", "benchmark results", "waitfor it"],
  },
  {
    key: "SQL_SCHEMA_DISCOVERY",
    family: "SQL",
    level: "Standard",
    regex: `information_schema|sqlite_(?:master|schema)|pg_(?:catalog|shadow|tables|user)|sys(?:objects|columns|databases)|sys${DOT}(?:tables|objects|columns|databases)|mysql${DOT}(?:user|db)|all_tab(?:les|_columns)|msysobjects`,
    description: "Names of the catalog tables that list a database's tables and users",
    examples: [
      "1 union select table_name from information_schema.tables",
      "select name from sqlite_master",
      "1;select * from pg_shadow",
      "select * from sys.objects",
      "select user from mysql.user",
    ],
    benign: ["system tables", "my sql user", "sysadmin"],
  },
  {
    key: "SQL_COMMENT_TERMINATOR",
    family: "SQL",
    level: "Standard",
    // a word right before the quote: the quote closes a value; `"--"` in JSON does not match
    regex: `[0-9a-z_]${Q}${RP}*${SEMICOLON}?(?:${DASH}{2}|${HASH}|${SLASH}${STAR})`,
    description: "Quote closing a value directly followed by a comment that cuts off the rest of the query",
    examples: ["admin'--", "admin')-- -", "admin'#", "admin'/*", `1"--`, "x';--"],
    benign: [`{"a":"--"}`, "O'Brien", "rock 'n' roll -- great", "the 'quoted' -- dash"],
  },
  {
    key: "SQL_EXECUTABLE_COMMENT",
    family: "SQL",
    level: "Standard",
    regex: `${SLASH}${STAR}${EXCLAMATION}[0-9a-z]`,
    description: "MySQL executable comment /*!...*/ used to hide keywords",
    examples: ["1 /*!50000union*/ select 1", "/*!select*/"],
    benign: ["/*! license header", "a/b*c!"],
  },
  {
    key: "SQL_ORDER_BY_PROBE",
    family: "SQL",
    level: "Standard",
    regex: `(?:${Q}|${RP}|[0-9])${S}(?:order|group)${S}by${S}[0-9]+${S0}${STATEMENT_END}`,
    description: "ORDER BY / GROUP BY <n> after a value, used to count a query's columns",
    examples: ["1 order by 5--", "x' ORDER BY 3#", "1) group by 2", "1 order by 10"],
    benign: ["1 order by 5pm", "order by date", "group by 2s and 3s"],
  },
  {
    key: "SQL_ERROR_FUNCTION",
    family: "SQL",
    level: "Standard",
    regex: `(?:extractvalue|updatexml|name_const|gtid_subset|xmltype|dbms_xmlgen${DOT}getxml|utl_inaddr${DOT}get_host_(?:address|name)|ctxsys${DOT}drithsx${DOT}sn)${S0}${LP}`,
    description: "Functions used to leak data through database error messages",
    examples: [
      "1 and extractvalue(1,concat(0x7e,version()))",
      "updatexml(null,user(),null)",
      "utl_inaddr.get_host_name((select user from dual))",
    ],
    benign: ["extract value", "update xml"],
  },
  {
    key: "SQL_SERVER_VARIABLE",
    family: "SQL",
    level: "Standard",
    regex: `${AT}${AT}[a-z_]`,
    description: "Server variables such as @@version that fingerprint the database",
    examples: ["1 union select @@version", "@@datadir", "@@hostname"],
    benign: ["me@example.com", "@user", "a@@1"],
  },
  // --------------------------------------------------------------------------------------- Strict
  {
    key: "SQL_QUOTE_KEYWORD",
    family: "SQL",
    level: "Strict",
    regex: `${Q}${RP}*${S0}${KEYWORD}(?:${S}|${LP}|${Q})`,
    description: "Any quote followed by an SQL keyword",
    examples: ["x' or true--", "1' having 1=1", "'and(select 1)", "' union ", "'like'"],
    benign: ["O'Brien", "rock 'n' roll", "it's ordinary"],
  },
  {
    key: "SQL_QUOTE_TERMINATOR",
    family: "SQL",
    level: "Strict",
    regex: `${Q}${RP}*${S0}(?:${DASH}{2}|${HASH}|${SLASH}${STAR}|${SEMICOLON})`,
    description: "Any quote followed by a comment or statement end",
    examples: ["admin' -- ", "x' #", `"; `, "' /*"],
    benign: ["O'Brien", "it's - fine"],
  },
  {
    key: "SQL_STATEMENT",
    family: "SQL",
    level: "Strict",
    regex: `(?:select${S}.*${S}from|(?:insert|replace)${S}into|delete${S}from|update${S}[^ +%]+${S}set|(?:drop|alter|create|truncate)${S}(?:table|database|schema|user|view|index|procedure|function))${S}`,
    description:
      "The shape of a complete SQL statement (SELECT ... FROM, INSERT INTO, UPDATE ... SET, DROP TABLE)",
    examples: ["select name from users", "insert into t values", "update users set x=1", "drop table x"],
    benign: ["select your union rep", "drop me a line", "how to update"],
  },
  {
    key: "SQL_FUNCTION_CALL",
    family: "SQL",
    level: "Strict",
    regex: `${WORD_START}(?:char|nchar|chr|concat|concat_ws|group_concat|ascii|ord|hex|unhex|substr|substring|mid|length|version|database|user|current_user|system_user|session_user|schema|cast|convert|if|ifnull|nullif|coalesce|rand|floor|md5|lower|upper)${LP}`,
    description: "Calls of SQL functions used to build or probe values (CHAR(, CONCAT(, VERSION(...)",
    examples: ["1 and ascii(substring(user(),1,1))>64", "concat(0x7e,version())", "'char(65)"],
    benign: ["search(1)", "research (2020)", "march(ing)"],
  },
];
