/**
 * The LDAP family: LDAP filter injection. An application that builds `(&(uid=<input>)(pw=...))`
 * from a value lets the value close the filter and open its own: `*)(uid=*))(|(uid=*`. Prose uses
 * parentheses too, so the rules want the filter's own syntax: `)(` followed by an attribute and
 * `=`, or by `&`, `|`, `!`; a wildcard right before the closing parenthesis.
 */
import type { ValueRule } from "../types.ts";
import { SP0 } from "./injection-fragments.ts";

/** An LDAP attribute description (`uid`, `cn`, `objectClass`, `userPassword;binary`). */
const ATTRIBUTE = "[a-z][a-z0-9\\-]*(?:;[a-z0-9\\-]+)*";
/** A filter comparison: `=`, `~=`, `<=`, `>=`, `:=` (extensible match); not `==` or `=>` (code). */
const COMPARISON = `${SP0}[~<>:]?=(?:[^=>]|$)`;
/** Attributes an injected filter names to read or bypass accounts. */
const ACCOUNT_ATTRIBUTE =
  "(?:uid|cn|sn|mail|objectclass|objectcategory|userpassword|unicodepwd|samaccountname|userprincipalname|memberof|member|givenname|displayname|ou|dc|description|telephonenumber|homedirectory|loginshell|gidnumber|uidnumber)";

/** LDAP filter injection rules. */
export const LDAP_RULES: readonly ValueRule[] = [
  // ---------------------------------------------------------------------------------------- Basic
  {
    key: "LDAP_FILTER_BREAKOUT",
    family: "LDAP",
    level: "Basic",
    regex: `\\)${SP0}\\(${SP0}(?:[&|!]${SP0}\\(${SP0}${ATTRIBUTE}${COMPARISON}|${ACCOUNT_ATTRIBUTE}${COMPARISON})`,
    description:
      "A value that closes the filter and opens a new one on an account attribute: *)(uid=*), )(|(cn=",
    examples: [
      "*)(uid=*))(|(uid=*",
      "admin)(|(password=*)",
      "x)(objectClass=*)",
      "*)(&(cn=admin)",
      "jdoe)(!(memberOf=cn=x)",
      "a)(userPassword=*)",
    ],
    benign: ["x = (a)(b) + c", "(see above)(and below)", "f(a)(x=>x)", "(1)(2)", "(c)(d)=3"],
  },
  {
    key: "LDAP_ALWAYS_TRUE",
    family: "LDAP",
    level: "Basic",
    // "the pipe (|) character" is prose: (&) and (|) count only right after a closed filter
    regex: `\\)${SP0}\\(${SP0}[&|]${SP0}\\)|\\(${SP0}objectclass${SP0}=${SP0}\\*${SP0}\\)`,
    description: "The filters that match every entry: (&), (|) and (objectClass=*)",
    examples: ["admin)(&)", "*)(|(objectclass=*)", "x))(|)(", "(objectClass=*)"],
    benign: [
      "(a & b)",
      "(x | y)",
      "objectclass",
      "you & me (&c)",
      "the pipe (|) and ampersand (&) characters",
    ],
  },
  // ------------------------------------------------------------------------------------- Standard
  {
    key: "LDAP_WILDCARD_CLOSE",
    family: "LDAP",
    level: "Standard",
    // the wildcard ends the value's first part (admin*, *, x=a*); in (*)(, (int*)(x) and
    // footnotes (*) an opening parenthesis comes first: C and prose, not a filter value
    regex: `(?:^|=)[^()=]*\\*${SP0}\\)${SP0}(?:\\(|\\)|\\x00)`,
    description:
      "A wildcard that closes the filter and goes on (*)(, *)), *) and NUL), turning a lookup into 'any entry'",
    examples: ["*)(", "admin*))", "j*)(cn=x", "*)\u0000"],
    benign: [
      "(note*) see below",
      "Terms apply (see note*)",
      "5 * (3) = 15",
      "**bold**",
      "a*b)",
      "double (*)(const int a)",
      "accuracy (*)    (**)",
      "CreateMainEnvironment(int*) (in /bin/node)",
      "x = (char*)(buf)",
    ],
  },
  {
    key: "LDAP_NESTED_FILTER",
    family: "LDAP",
    level: "Standard",
    // a filter at the start or inside another; f(description=x) and .filter(mail=x) are code
    regex: `\\(${SP0}[&|!]${SP0}\\(${SP0}${ATTRIBUTE}${COMPARISON}|(?:^|[(&|!])${SP0}\\(${SP0}${ACCOUNT_ATTRIBUTE}${COMPARISON}[^()]*\\)`,
    description: "A complete filter on an account attribute, (cn=...) or (&(uid=...), inside a value",
    examples: ["(&(uid=admin)(userPassword=*))", "(|(cn=*)", "(uid=jdoe)", "(!(objectClass=person))"],
    benign: [
      "(see above)",
      "(x => y)",
      "(a|b)",
      "if (!(a == b)) {}",
      "(x=5)",
      "(o=origin)",
      "argparse.ArgumentParser(description=description)",
      "User.objects.filter(mail=email)",
    ],
  },
  {
    key: "LDAP_NULL_TERMINATOR",
    family: "LDAP",
    level: "Standard",
    regex: `[)*]${SP0}\\x00`,
    description: "A NUL after ) or *, which C-based LDAP libraries take as the end of the filter",
    examples: ["admin)\u0000", "*\u0000", "x*)\u0000(|"],
    benign: ["admin", "a)b", "*"],
  },
  // --------------------------------------------------------------------------------------- Strict
  {
    key: "LDAP_FILTER_SYNTAX",
    family: "LDAP",
    level: "Strict",
    regex: `\\)${SP0}\\(|\\*${SP0}\\)`,
    description: "Any )( or *), the seams between filter parts",
    examples: ["x = (a)(b) + c", "(note*)", ")("],
    benign: ["(a) x (b)", "*a)"],
  },
  {
    key: "LDAP_DN_INJECTION",
    family: "LDAP",
    level: "Strict",
    regex: `,${SP0}(?:cn|ou|dc|uid|o)${SP0}=[^,]*,${SP0}(?:ou|dc|o|cn)${SP0}=`,
    description: "Relative distinguished names appended to a value (admin,ou=admins,dc=example)",
    examples: ["admin,ou=admins,dc=example,dc=com", "x,cn=root,dc=corp"],
    benign: ["a, b, c", "ou=1"],
  },
];
