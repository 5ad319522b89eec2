// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the strings are PHP payloads, not placeholders
/**
 * The PHP family: attacks on PHP applications. Code uploaded in a value (`<?php system($_GET[c]);`),
 * stream wrappers that turn an include or a file read into source disclosure or code execution
 * (`php://filter`, `phar://`, `expect://`, `data://`), serialized objects for unserialize()
 * (`O:8:"stdClass":0:{}`), and php-cgi option injection (`-d allow_url_include=1`).
 */
import type { ValueRule } from "../types.ts";
import { REPLACEMENT, SCHEME_START, SP0, WS0 } from "./injection-fragments.ts";

/**
 * Functions only PHP has that run commands, evaluate code or reveal the configuration (`assert(`
 * and `popen(` also appear in JavaScript, Python and C snippets: only PHP_WEBSHELL_CALL has them).
 */
const PHP_ONLY_FUNCTION =
  "(?:shell_exec|passthru|proc_open|pcntl_exec|phpinfo|create_function|call_user_func(?:_array)?|show_source|highlight_file|file_put_contents|file_get_contents|move_uploaded_file|base64_decode|gzinflate|gzuncompress|str_rot13|preg_replace|unserialize|fsockopen)";
/** Where a webshell takes its payload from. */
const PAYLOAD_SOURCE = `(?:@?\\$_(?:get|post|request|cookie|server|files)|base64_decode|gzinflate|gzuncompress|str_rot13|hex2bin|chr${SP0}\\()`;

/** PHP injection rules. */
export const PHP_RULES: readonly ValueRule[] = [
  // ---------------------------------------------------------------------------------------- Basic
  {
    key: "PHP_OPEN_TAG",
    family: "PHP",
    level: "Basic",
    regex: `<\\?php(?:[ \\t\\n\\r]|$)|<\\?=${SP0}[$a-z_(\`]`,
    description: "A PHP opening tag (<?php, <?=), which turns an uploaded or logged value into code",
    examples: ["<?php system($_GET['c']); ?>", "<?php\neval($_POST[1]);", "<?=`id`?>", "<?= $x ?>"],
    benign: ['<?xml version="1.0"?>', "<?phpinfo", "what is <?", "<?xml-stylesheet href='a'?>"],
  },
  {
    key: "PHP_STREAM_WRAPPER",
    family: "PHP",
    level: "Basic",
    regex: `${SCHEME_START}(?:php://(?:filter|input|fd|memory|temp|stdin)|phar://|expect://|zip://|compress\\.(?:zlib|bzip2)://|glob://|rar://|ogg://|data://text/plain)`,
    description:
      "PHP stream wrappers used to read source, run code or unpack archives (php://filter, phar://, expect://, data://)",
    examples: [
      "php://filter/convert.base64-encode/resource=index.php",
      "php://input",
      "phar://uploads/avatar.jpg/x",
      "expect://id",
      "zip://uploads/a.zip#shell.php",
      "data://text/plain;base64,PD9waHAgc3lzdGVtKCdpZCcpOz8+",
      "compress.zlib://file.gz",
    ],
    benign: ["php is a language", "https://www.php.net/manual/en/wrappers.php", "zip code 8000", "myphp://x"],
  },
  {
    key: "PHP_SERIALIZED_OBJECT",
    family: "PHP",
    level: "Basic",
    regex: `(?:^|[;{:"'])[oc]:[+]?[0-9]+:"[a-z_\\\\][a-z0-9_\\\\]*":[0-9]+:\\{`,
    description:
      'A PHP serialized object (O:8:"stdClass":1:{...}), which unserialize() turns into a gadget chain',
    examples: [
      'O:8:"stdClass":0:{}',
      'a:1:{i:0;O:4:"User":2:{s:4:"role";s:5:"admin";}}',
      'O:+4:"Evil":1:{s:1:"x";}',
      'C:11:"ArrayObject":21:{x:i:0;a:0:{};m:a:0:{}}',
      'O:32:"Monolog\\Handler\\SyslogUdpHandler":1:{}',
    ],
    benign: ['{"o": 8}', "O:8 at the station", 'Route O:"A"', 'a:1:{i:0;s:1:"x";}'],
  },
  {
    key: "PHP_CGI_OPTION",
    family: "PHP",
    level: "Basic",
    regex: `(?:^|[ \\t+])[-${REPLACEMENT}\u00ad]d${SP0}[+ ]?${SP0}(?:allow_url_include|allow_url_fopen|auto_prepend_file|auto_append_file|disable_functions|open_basedir|safe_mode|cgi\\.force_redirect|register_globals)${SP0}=`,
    description:
      "php-cgi options in a query (-d allow_url_include=1, also with a soft hyphen), CVE-2012-1823 and CVE-2024-4577",
    examples: [
      "-d allow_url_include=1 -d auto_prepend_file=php://input",
      "\u00add allow_url_include=1",
      `${REPLACEMENT}d+auto_prepend_file=php://input`,
      "x -d cgi.force_redirect=0",
    ],
    benign: ["allow_url_include is off", "3-d printing=fun", "-d flag"],
  },
  {
    key: "PHP_WEBSHELL_CALL",
    family: "PHP",
    level: "Basic",
    regex: `(?:^|[^a-z0-9_\\.$>:])(?:eval|assert|system|exec|passthru|shell_exec|popen|proc_open|include|require|include_once|require_once|create_function|call_user_func)${SP0}\\(${SP0}${PAYLOAD_SOURCE}`,
    description:
      "A PHP call whose argument comes from the request or a decoder: eval($_POST[x]), system(base64_decode(...))",
    examples: [
      "eval($_POST['x'])",
      "@eval(base64_decode('ZWNobyAxOw=='));",
      "system($_GET[c]);",
      "assert(str_rot13('flfgrz'))",
      "include($_REQUEST['page']);",
      "eval(gzinflate(base64_decode('x')))",
    ],
    benign: ["eval(x)", "the system($5) cost", "re.exec($_x)", "evaluate($_POST)"],
  },
  // ------------------------------------------------------------------------------------- Standard
  {
    key: "PHP_FUNCTION_CALL",
    family: "PHP",
    level: "Standard",
    regex: `(?:^|[^a-z0-9_\\.$>:])${PHP_ONLY_FUNCTION}${SP0}\\(`,
    description:
      "Calls of PHP functions that run commands, evaluate code, read files or reveal the configuration",
    examples: [
      "shell_exec('id')",
      "phpinfo()",
      "x;passthru('ls');",
      "file_get_contents('/etc/passwd')",
      "unserialize($x)",
      "preg_replace('/.*/e','system(\"id\")','')",
    ],
    benign: ["phpinfo page", "my_assert(x)", "obj.popen(x)", "$this->assert(x)", "Foo::unserialize(x)"],
  },
  {
    key: "PHP_EXEC_CALL",
    family: "PHP",
    level: "Standard",
    // require('fs') and require('node:test') are Node.js: include and require count only with a
    // variable or a remote or stream URL (remote file inclusion)
    // "a Unix system (\"OSF1\")" is prose: system and exec must touch their parenthesis
    regex: `(?:^|[^a-z0-9_\\.$>:])(?:(?:system|exec)\\(${SP0}['"$\`]|(?:eval|readfile|fopen)${SP0}\\(${SP0}['"$\`]|(?:include|require)(?:_once)?${SP0}\\(?${SP0}(?:\\$|['"](?:(?:https?|ftps?|php|phar|expect|zip|glob|file)://|data:)))`,
    description:
      "system(, exec(, eval(, readfile( with a string or variable argument; include/require of a variable or a remote URL",
    examples: [
      "system('id')",
      'exec("whoami")',
      "include('http://x.example/a.txt')",
      "readfile($f)",
      "eval(`x`)",
      "require_once 'php://input';",
      "include($page)",
    ],
    benign: [
      "the system (old)",
      'On a Digital Unix system ("OSF1") check',
      'our payment system ("PayX")',
      "regex.exec('abc')",
      "evaluation('x')",
      "include(x)",
      "const fs = require('fs');",
      "require('./lib')",
      "const test = require('node:test');",
      "require('/root/myModule')",
    ],
  },
  {
    key: "PHP_SUPERGLOBAL",
    family: "PHP",
    level: "Standard",
    regex: `\\$_(?:get|post|request|cookie|server|files|env|session)${WS0}\\[|\\$globals${WS0}\\[`,
    description:
      "PHP superglobals ($_GET[...], $_POST[...], $GLOBALS[...]) inside a value, the input of a webshell",
    examples: ["$_GET['cmd']", "${$_POST[x]}", "$GLOBALS['a']", "$_SERVER['HTTP_X']"],
    benign: ["$_get", "$ GET", "GET /api"],
  },
  {
    key: "PHP_SHORT_TAG",
    family: "PHP",
    level: "Standard",
    regex: `<\\?(?:[ \\t\\n\\r]|=)|<\\?php`,
    description: "Any PHP short or echo tag (<? , <?=)",
    examples: ["<? system('id'); ?>", "<?=1?>", "<?\n$x=1;"],
    benign: ['<?xml version="1.0"?>', "<?xml-stylesheet", "is it 3<?"],
  },
  // --------------------------------------------------------------------------------------- Strict
  {
    key: "PHP_VARIABLE_CALL",
    family: "PHP",
    level: "Strict",
    regex: `\\$[a-z_][a-z0-9_]*${SP0}\\(|\\$\\{${SP0}['"]?[a-z_]`,
    description:
      "A call through a variable ($f(...)) or a variable variable (${'x'}), used to hide function names",
    examples: ["$f('id')", "$a($_GET[1])", "${'_GET'}"],
    benign: ["$5 (five)", "$(document)"],
  },
  {
    key: "PHP_FUNCTION_NAME",
    family: "PHP",
    level: "Strict",
    regex:
      "(?:^|[^a-z0-9_])(?:shell_exec|passthru|proc_open|pcntl_exec|phpinfo|base64_decode|create_function|show_source|highlight_file|gzinflate|str_rot13)(?:[^a-z0-9_]|$)" +
      `|(?:^|[^a-z0-9_])(?:system|exec|eval|assert|readfile|fopen|popen|include|require)${SP0}\\(`,
    description: "PHP's dangerous function names anywhere, with or without a call",
    examples: ["phpinfo", "call base64_decode on it", "eval (x)"],
    benign: ["information", "passthrough"],
  },
];
