/**
 * Request targets for the deny-rule tests, exactly as they travel on the wire (HTTP/1 request
 * line): percent-encoding as a browser or attack tool sends it, raw characters where clients send
 * them raw, never a raw space or `#`. The string-level tests and the real-Envoy test share them.
 */

/** An attack that must be blocked at `level` and every stricter level. */
export interface AttackRequest {
  target: string;
  level: "Basic" | "Standard";
}

/** Attacks, SQL injection and XSS, in the path and in the query, plain and encoded. */
export const ATTACKS: readonly AttackRequest[] = [
  // SQL, Basic
  { level: "Basic", target: "/products?id=1'+or+'1'='1" },
  { level: "Basic", target: "/products?id=1%27%20OR%201%3D1--" },
  { level: "Basic", target: "/products?id=1%2527%2520or%25201%253D1" },
  { level: "Basic", target: "/products/1'%20or%20'a'='a" },
  { level: "Basic", target: "/login?user=admin%27%2F**%2For%2F**%2F1%3D1--" },
  { level: "Basic", target: "/search?q=1+union+select+username,password+from+users" },
  { level: "Basic", target: "/search?q=1%20UNION%20ALL%20SELECT%20NULL,NULL" },
  { level: "Basic", target: "/search?q=1/**/union/**/select/**/1" },
  { level: "Basic", target: "/search?q=1%2Bunion%2Bselect%2Bnull%252Cnull--" },
  { level: "Basic", target: "/items/1%20union%20select%201" },
  { level: "Basic", target: "/items/-1%0Aunion%0Aselect%0A1" },
  { level: "Basic", target: "/a?x=1;drop+table+users" },
  { level: "Basic", target: "/a?x=1%3BDROP%20TABLE%20users--" },
  { level: "Basic", target: "/a?cmd=1;exec+master..xp_cmdshell+'dir'" },
  { level: "Basic", target: "/a?f=1+into+outfile+'/var/www/shell.php'" },
  // XSS, Basic
  { level: "Basic", target: "/search?q=<script>alert(1)</script>" },
  { level: "Basic", target: "/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E" },
  { level: "Basic", target: "/search?q=%253Cscript%253Ealert(1)" },
  { level: "Basic", target: "/page/%3Cscript%3Ealert(1)" },
  { level: "Basic", target: "/page/<script>alert(1)" },
  { level: "Basic", target: "/go?url=javascript:alert(document.cookie)" },
  { level: "Basic", target: "/go?url=JavaScript%3Aalert(1)" },
  { level: "Basic", target: "/img?alt=x%20onerror%3Dalert(1)" },
  { level: "Basic", target: "/q?x=%22%3E%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E" },
  { level: "Basic", target: "/q?x=<svg/onload=alert(1)>" },
  { level: "Basic", target: `/q?x="+onmouseover="alert(1)` },
  // SQL, Standard
  { level: "Standard", target: "/a?id=1+or+1=1" },
  { level: "Standard", target: "/a?id=1%20AND%202%3E1" },
  { level: "Standard", target: "/a?id=1;delete+from+users" },
  { level: "Standard", target: "/a?id=1%3Bselect%20pg_sleep(5)" },
  { level: "Standard", target: "/a?id=1+and+sleep(5)" },
  { level: "Standard", target: "/a?id=1';waitfor+delay+'0:0:5'--" },
  { level: "Standard", target: "/a?q=information_schema.tables" },
  { level: "Standard", target: "/login?user=admin'--" },
  { level: "Standard", target: "/login?user=admin%27%23" },
  { level: "Standard", target: "/a?id=1+order+by+5--" },
  { level: "Standard", target: "/a?id=1/*!50000union*/+select+1" },
  { level: "Standard", target: "/a?id=extractvalue(1,concat(0x7e,version()))" },
  { level: "Standard", target: "/a?v=%40%40version" },
  { level: "Standard", target: "/a?id=1/**/and/**/1=2" },
  { level: "Standard", target: "/users/1;update%20users%20set%20admin=1" },
  { level: "Standard", target: "/a?name=x'+or+'a'+like+'a" },
  { level: "Standard", target: "/a?id=1%27%20AND%20SUBSTRING(version(),1,1)%3D%275" },
  { level: "Standard", target: "/a?id=1+union%23x%0Aselect+1" },
  // XSS, Standard
  { level: "Standard", target: "/a?q=<iframe+src=//evil.example>" },
  { level: "Standard", target: "/a?q=%3Csvg%3E" },
  { level: "Standard", target: "/a?q=<details+open+ontoggle=alert(1)>" },
  { level: "Standard", target: "/a?q=%3C%73cript%3E" },
  { level: "Standard", target: "/a?q=%22%3E%3Cb%3E" },
  { level: "Standard", target: "/a?u=java%09script:alert(1)" },
  { level: "Standard", target: "/a?u=data:text/html;base64,PHNjcmlwdD4=" },
  { level: "Standard", target: "/a?q=document.cookie" },
  { level: "Standard", target: "/p/<img%20src=x>" },
  { level: "Standard", target: "/a?cb=';alert(1)//" },
  { level: "Standard", target: "/a?cb=%27-alert(1)-%27" },
];

/** Ordinary requests that must pass at Standard (and so at Basic and Unfiltered). */
export const BENIGN: readonly string[] = [
  "/",
  "/index.html",
  "/api/v1/users/42",
  "/api/items?sort=-created_at&page=2",
  "/search?q=O'Brien",
  "/search?q=O%27Brien",
  "/search?name=O%27Brien&city=Dublin",
  "/search?q=don%27t+stop+me+now",
  "/search?q=it%27s+5+o%27clock",
  "/search?q=select+your+union+rep",
  "/contact?msg=drop+me+a+line",
  "/contact?msg=Step+1%3B+select+the+file%3B+step+2%3B+update+your+profile",
  "/search?q=c%2B%2B",
  "/search?q=c++",
  "/search?q=a<b",
  "/search?q=a%3Cb",
  "/search?q=1%3C2",
  "/search?q=x+%3E+y+or+z",
  "/login?email=jane.doe%40example.com",
  "/api?filter=%7B%22name%22%3A%22x%22%2C%22tags%22%3A%5B%22a%22%2C%22b%22%5D%7D",
  `/api?filter={"name":"x","n":1}`,
  "/search?q=JavaScript%3A+The+Good+Parts",
  "/wiki/JavaScript:_The_Good_Parts",
  "/search?q=%22machine+learning%22+OR+%22deep+learning%22",
  "/search?q=%22foo%22+AND+NOT+%22bar%22",
  "/search?q=sleep(8+hours)",
  "/search?q=javascript+tutorial",
  "/maps?onload=initMap&callback=cb",
  "/search?q=sleep+well",
  "/search?q=order+by+date",
  "/search?q=1+or+2+apples",
  "/search?q=Tom+%26+Jerry",
  "/search?q=%22quoted+phrase%22",
  "/search?q=%27hello%27+and+%27bye%27",
  "/search?q=select+name+from+users",
  "/search?q=50%25+off",
  "/search?q=%E2%9C%93+done",
  "/search?q=rock+%27n%27+roll",
  "/docs/information-schema-overview",
  "/blog/2024/01/rock-n-roll",
  "/files/report-2024.pdf",
  "/settings/online=true",
  "/a?redirect=%2Fhome%3Ftab%3D1",
  "/a?text=Hello%2C+world!+How+are+you%3F",
  "/a?q=alert+me",
];

/** Requests that pass at Standard but that Strict, which is aggressive on purpose, blocks. */
export const STRICT_ONLY: readonly string[] = [
  "/search?q=a<b",
  "/search?q=%27hello%27+and+%27bye%27",
  "/search?q=select+name+from+users",
  "/a?q=alert(1)",
  "/a?q=%26lt%3Bscript%26gt%3B",
];
