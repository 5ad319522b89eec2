/**
 * Configuration for the ModSecurity + OWASP CRS comparison: an nginx that loads Debian's
 * ModSecurity v3 connector and the CRS from Debian's modsecurity-crs package, at a paranoia level,
 * in blocking (anomaly scoring) mode with the CRS default thresholds. Everything is written into a
 * temporary folder; nothing under /etc is changed.
 *
 * @example
 * const files = modsecurityFiles({ dir: "/tmp/x", port: 18080, upstreamPort: 18081, paranoiaLevel: 2 });
 * for (const [name, text] of Object.entries(files)) writeFileSync(join("/tmp/x", name), text);
 */

/** Where Debian's packages put the pieces (scripts/setup-waf-bench.sh installs them). */
export const DEBIAN_PATHS = {
  nginx: "/usr/sbin/nginx",
  module: "/usr/lib/nginx/modules/ngx_http_modsecurity_module.so",
  crsSetup: "/etc/modsecurity/crs/crs-setup.conf",
  crsRules: "/usr/share/modsecurity-crs/rules",
} as const;

/** Options of {@link modsecurityFiles}. */
export interface ModsecurityOptions {
  /** The temporary folder the files are written to (absolute). */
  readonly dir: string;
  /** nginx listens on 127.0.0.1:port. */
  readonly port: number;
  /** The application on 127.0.0.1:upstreamPort. */
  readonly upstreamPort: number;
  /** CRS paranoia level 1-4. */
  readonly paranoiaLevel: 1 | 2 | 3 | 4;
  /** Path prefix of a location with ModSecurity off (the baseline of what nginx alone refuses). */
  readonly barePrefix: string;
  /** Write the audit log (every matched rule of blocked requests) to `<dir>/audit.log`, for finding out why. */
  readonly auditLog?: boolean;
  /** CRS `tx.allowed_methods` (default: the CRS default, GET HEAD POST OPTIONS). */
  readonly allowedMethods?: readonly string[];
}

/** File name to content: `nginx.conf` and `modsecurity.conf`, plus the folders nginx needs. */
export function modsecurityFiles(o: ModsecurityOptions): Record<string, string> {
  return { "nginx.conf": nginxConf(o), "modsecurity.conf": modsecurityConf(o) };
}

/** Sub-folders of `dir` nginx and ModSecurity write to. */
export const WRITABLE_DIRS = [
  "client_body",
  "proxy",
  "fastcgi",
  "uwsgi",
  "scgi",
  "modsec-tmp",
  "modsec-data",
];

function nginxConf(o: ModsecurityOptions): string {
  // Header buffers as large as Envoy's default 60 KiB header limit, so both see the same requests.
  return `load_module ${DEBIAN_PATHS.module};
daemon off;
master_process on;
worker_processes 1;
pid ${o.dir}/nginx.pid;
error_log ${o.dir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${o.dir}/client_body;
  proxy_temp_path ${o.dir}/proxy;
  fastcgi_temp_path ${o.dir}/fastcgi;
  uwsgi_temp_path ${o.dir}/uwsgi;
  scgi_temp_path ${o.dir}/scgi;
  client_max_body_size 10m;
  client_header_buffer_size 8k;
  large_client_header_buffers 8 64k;
  upstream app {
    server 127.0.0.1:${o.upstreamPort};
    keepalive 32;
  }
  server {
    listen 127.0.0.1:${o.port};
    modsecurity on;
    modsecurity_rules_file ${o.dir}/modsecurity.conf;
    location ${o.barePrefix} {
      modsecurity off;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_pass http://app;
    }
    location / {
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_pass http://app;
    }
  }
}
`;
}

function modsecurityConf(o: ModsecurityOptions): string {
  // The engine settings of ModSecurity's recommended configuration that matter for requests,
  // then the CRS as Debian's owasp-crs.load includes it, with the paranoia level set first.
  return `SecRuleEngine On
SecRequestBodyAccess On
SecRule REQUEST_HEADERS:Content-Type "@rx ^(?:application(?:/soap\\+|/)|text/)xml" "id:200000,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=XML"
SecRule REQUEST_HEADERS:Content-Type "@rx ^application/json" "id:200001,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON"
SecRequestBodyLimit 13107200
SecRequestBodyNoFilesLimit 131072
SecRequestBodyLimitAction Reject
SecRule REQBODY_ERROR "!@eq 0" "id:200002,phase:2,t:none,log,deny,status:400,msg:'Failed to parse request body.'"
SecRule MULTIPART_STRICT_ERROR "!@eq 0" "id:200003,phase:2,t:none,log,deny,status:400,msg:'Multipart request body failed strict validation'"
SecRule MULTIPART_UNMATCHED_BOUNDARY "@eq 1" "id:200004,phase:2,t:none,log,deny,msg:'Multipart parser detected a possible unmatched boundary.'"
SecPcreMatchLimit 100000
SecPcreMatchLimitRecursion 100000
SecResponseBodyAccess Off
SecTmpDir ${o.dir}/modsec-tmp
SecDataDir ${o.dir}/modsec-data
${o.auditLog ? `SecAuditEngine RelevantOnly\nSecAuditLogRelevantStatus "^(?:4|5)"\nSecAuditLogParts ABHZ\nSecAuditLogType Serial\nSecAuditLog ${o.dir}/audit.log` : "SecAuditEngine Off"}
SecArgumentSeparator &
SecCookieFormat 0
SecAction "id:900000,phase:1,nolog,pass,t:none,setvar:tx.paranoia_level=${o.paranoiaLevel}"
${o.allowedMethods ? `SecAction "id:900200,phase:1,nolog,pass,t:none,setvar:'tx.allowed_methods=${o.allowedMethods.join(" ")}'"\n` : ""}Include ${DEBIAN_PATHS.crsSetup}
Include ${DEBIAN_PATHS.crsRules}/*.conf
`;
}
