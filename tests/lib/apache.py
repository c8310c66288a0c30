"""apache.py: a throwaway Apache 2.4 (Debian's packages) around kanca's SHIPPED apache/ configurations, as a
kancatest transport (send() -> kt.Response, name, can_omit_length; usable by kt.Suite and kt.run_one).

    t = ApacheTransport(env, tmpdir, mode="fcgid" | "proxy_fcgi" | "cgi" | "cgid", edit=None)
    t.start(); t.url(path); t.send(method, path, headers, body); t.error_log_tail(n); t.stop()

The test server's httpd.conf is written here around the shipped file(s), changing only what their
comments say to change (the CHANGE paths):
  fcgid       apache/kanca-fcgid.conf (mod_fcgid starts kanca; mpm_event)
  proxy_fcgi  apache/kanca-proxy-fcgi.conf (mod_proxy_fcgi to kanca under spawn-fcgi on a unix socket)
  cgi         apache/shared-hosting/public_html/{.htaccess,cgi-bin/.htaccess} under mod_cgi (mpm_prefork,
              as Debian pairs them; mpm="event" works too)
  cgid        the same .htaccess files under mod_cgid (Debian's CGI module with mpm_event)
edit(text) -> text is applied to the shipped snippet, or to public_html/.htaccess, before that (how a
test builds a deliberately broken variant); without_line() and replacing() below make such edits and
fail loudly when the text they change is not there.

As root, Apache's children (and so kanca) run as User nobody / Group nogroup, the temp dirs are made
0755 and a SQLite store's directory and files are given to nobody. Unprivileged, everything runs as
the caller. The Apache parent is started with -DFOREGROUND in a new session; stop() ends its process
group and, for proxy_fcgi, the spawn-fcgi responders by their pids (they are outside the group).
"""

import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import time

import kancatest as kt

APACHE = "/usr/sbin/apache2" if os.path.exists("/usr/sbin/apache2") else (shutil.which("apache2") or "apache2")
MODDIR = "/usr/lib/apache2/modules"
MODES = ("fcgid", "proxy_fcgi", "cgi", "cgid")
RUN_USER, RUN_GROUP = "nobody", "nogroup"

# the modules each mode loads (mod_unixd, mod_log_config, mod_so and mod_watchdog are compiled in)
_MODULES = {
    "fcgid": ["authz_core", "alias", "fcgid"],
    "proxy_fcgi": ["authz_core", "env", "proxy", "proxy_fcgi"],
    "cgi": ["authz_core", "mime", "env", "rewrite", "setenvif", "cgi"],
    "cgid": ["authz_core", "mime", "env", "rewrite", "setenvif", "cgid"],
}


def shipped(*parts):
    """A file of the source tree's apache/ directory."""
    return os.path.join(kt.srcdir(), "apache", *parts)


def require(tap, mode):
    """kt.require_tool for everything mode needs (CI=true: a missing one is a failure)."""
    kt.require_tool(tap, "apache2", shutil.which(APACHE))
    for m in _MODULES[mode]:
        kt.require_tool(tap, "mod_%s (Apache module)" % m, os.path.join(MODDIR, "mod_%s.so" % m))
    if mode == "proxy_fcgi":
        kt.require_tool(tap, "spawn-fcgi")


def without_line(text_in_line):
    """An edit that drops every (uncommented) line containing text_in_line; raises if there is none."""
    def edit(text):
        lines = text.splitlines(True)
        keep = [x for x in lines if x.lstrip().startswith("#") or text_in_line not in x]
        if len(keep) == len(lines):
            raise ValueError("edit: no line with %r to drop" % text_in_line)
        return "".join(keep)
    return edit


def replacing(old, new):
    """An edit that replaces old by new; raises if old is not in the text."""
    def edit(text):
        if old not in text:
            raise ValueError("edit: %r not found" % old)
        return text.replace(old, new)
    return edit


def _ids():
    """(uid, gid) Apache's children run as when started by root."""
    import grp
    import pwd
    return pwd.getpwnam(RUN_USER).pw_uid, grp.getgrnam(RUN_GROUP).gr_gid


def _alive(pid):
    """True while pid exists and is not a zombie (orphans are reaped by PID 1, sometimes late)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            data = f.read()
    except OSError:
        return False
    return data[data.rfind(")") + 2:].split()[0] != "Z"


def _is_kanca(pid):
    try:
        return os.path.basename(os.readlink("/proc/%d/exe" % pid)).startswith("kanca")
    except OSError:
        return False


def _children(pids):
    out = []
    for pid in os.listdir("/proc"):
        if pid.isdigit() and kt.parent_pid(int(pid)) in pids:
            out.append(int(pid))
    return out


def _set(text, pattern, value, what):
    """Replaces the value of the one line matching pattern (group 1 keeps the directive)."""
    new, n = re.subn(pattern, lambda m: m.group(1) + value, text, flags=re.M)
    if n != 1:
        raise ValueError("the shipped %s has %d lines matching %r (expected 1)" % (what, n, pattern))
    return new


class ApacheTransport:
    def __init__(self, env, tmpdir, mode="fcgid", edit=None, mpm=None, authconfig=True, responders=2,
                 edit_cgibin=None, workers=None):
        """env: a kt.Kanca (its store and kanca.conf); tmpdir: the test's temp dir (the server's files go
        into a subdirectory); edit: function(text) -> text applied to the shipped snippet's text (fcgid,
        proxy_fcgi) or to public_html/.htaccess (cgi, cgid; edit_cgibin: to public_html/cgi-bin/.htaccess).
        mpm: "event" or "prefork" (default: prefork for cgi, event otherwise); authconfig=False: a host
        whose AllowOverride leaves out AuthConfig (CGI modes); responders: spawn-fcgi -F (proxy_fcgi), also
        FcgidMaxProcesses (fcgid); workers: Apache's MaxRequestWorkers (default 8 prefork, 16 event; the
        benchmark raises it to its connection count)."""
        if mode not in MODES:
            raise ValueError("mode must be one of %s" % ", ".join(MODES))
        self.env = env
        self.tmpdir = tmpdir
        self.mode = mode
        self.edit = edit
        self.edit_cgibin = edit_cgibin
        self.mpm = mpm or ("prefork" if mode == "cgi" else "event")
        self.authconfig = authconfig
        self.responders = responders
        self.workers = workers
        self.name = "apache-" + mode
        # cgi/cgid: a body without Content-Length (chunked) reaches kanca without one (kanca's 411);
        # mod_fcgid and mod_proxy_fcgi (proxy-sendcl) read it first and send its length
        self.can_omit_length = mode in ("cgi", "cgid")
        self.root = os.geteuid() == 0
        n = 1
        while os.path.exists(os.path.join(tmpdir, "apache-%s-%d" % (mode, n))):
            n += 1
        self.run = os.path.join(tmpdir, "apache-%s-%d" % (mode, n))
        self.conf = os.path.join(self.run, "httpd.conf")
        self.errorlog = os.path.join(self.run, "error.log")
        self.stderr_log = os.path.join(self.run, "stderr.log")
        self.docroot = os.path.join(self.run, "public_html" if mode in ("cgi", "cgid") else "htdocs")
        self.sock = os.path.join(self.run, "kanca.sock")
        self.spawn_pidfile = os.path.join(self.run, "spawn-fcgi.pids")
        self.port = None
        self.proc = None
        self.spawn_pids = []
        self._registered = False

    # -- files

    def _prepare(self):
        os.makedirs(self.run, exist_ok=True)
        for d in (self.tmpdir, self.run):
            os.chmod(d, 0o755)  # mkdtemp makes 0700: Apache's User must reach the files below
        os.makedirs(self.docroot, exist_ok=True)
        bindir = os.path.join(self.run, "bin")
        os.makedirs(bindir, exist_ok=True)
        # an installed copy, as make install would place it: the build dir may not be reachable by nobody
        self.kanca_bin = os.path.join(bindir, "kanca")
        shutil.copy(kt.binary("kanca"), self.kanca_bin)
        os.chmod(self.kanca_bin, 0o755)
        if self.mode == "fcgid":
            self._write_snippet("kanca-fcgid.conf", [(r"^(\s*Define KANCA_BIN )\S+$", self.kanca_bin),
                                                     (r"^(\s*Define KANCA_CONFIG )\S+$", self.env.config)])
        elif self.mode == "proxy_fcgi":
            self._write_snippet("kanca-proxy-fcgi.conf", [(r"^(\s*Define KANCA_SOCKET )\S+$", self.sock)])
        else:
            self._write_htaccess()
        self._give_store()

    @staticmethod
    def _edited(path, edit):
        with open(path) as f:
            text = f.read()
        return edit(text) if edit else text

    def _write_snippet(self, name, changes):
        text = self._edited(shipped(name), self.edit)
        for pattern, value in changes:
            text = _set(text, pattern, value, name)
        self.snippet = os.path.join(self.run, name)
        with open(self.snippet, "w") as f:
            f.write(text)

    def _write_htaccess(self):
        src = shipped("shared-hosting", "public_html")
        top = self._edited(os.path.join(src, ".htaccess"), self.edit)
        top = _set(top, r"^(SetEnv KANCA_CONFIG )\S+$", self.env.config, "public_html/.htaccess")
        cgibin = os.path.join(self.docroot, "cgi-bin")
        os.makedirs(cgibin, exist_ok=True)
        with open(os.path.join(self.docroot, ".htaccess"), "w") as f:
            f.write(top)
        with open(os.path.join(cgibin, ".htaccess"), "w") as f:
            f.write(self._edited(os.path.join(src, "cgi-bin", ".htaccess"), self.edit_cgibin))
        prog = os.path.join(cgibin, "kanca.cgi")
        shutil.copy(kt.binary("cgi-bin/kanca.cgi"), prog)
        os.chmod(prog, 0o755)
        for dirpath, dirs, files in os.walk(self.docroot):
            os.chmod(dirpath, 0o755)
            for x in files:
                if x != "kanca.cgi":
                    os.chmod(os.path.join(dirpath, x), 0o644)

    def _give_store(self):
        """As root: the SQLite store (made by the test's kancactl as root) becomes writable by Apache's
        User. SQLite itself gives -wal/-shm files a root process creates later to the database's owner;
        kanca's <db>.lock is created once, so it is handed over here."""
        if not self.root or getattr(self.env.store, "kind", "") != "sqlite":
            return
        uid, gid = _ids()
        path = self.env.store.path
        os.chown(os.path.dirname(path), uid, gid)
        os.chmod(os.path.dirname(path), 0o755)
        for suffix in ("", "-wal", "-shm", "-journal", ".lock"):
            if os.path.exists(path + suffix):
                os.chown(path + suffix, uid, gid)

    def _extra_env(self):
        """kanca's variables besides KANCA_CONFIG (which the shipped file sets), e.g. KANCA_TEST_NOW."""
        return {k: v for k, v in sorted(self.env.kanca_env().items()) if k != "KANCA_CONFIG"}

    def write_conf(self):
        run, mode = self.run, self.mode
        mods = ["mpm_" + self.mpm] + _MODULES[mode]
        lines = [
            "# written by tests/lib/apache.py: a throwaway Apache for kanca's %s configuration" % mode,
            "ServerRoot %s" % run,
            "ServerName 127.0.0.1",
            "Listen 127.0.0.1:%d" % self.port,
            "PidFile %s/httpd.pid" % run,
            "ErrorLog %s" % self.errorlog,
            "LogLevel info",
            "DefaultRuntimeDir %s" % run,
            "Mutex file:%s default" % run,
            "DocumentRoot %s" % self.docroot,
        ]
        lines += ["LoadModule %s_module %s/mod_%s.so" % (m, MODDIR, m) for m in mods]
        if self.mpm == "prefork":
            w = self.workers or 8
            lines += ["StartServers 2", "MinSpareServers 1", "MaxSpareServers %d" % max(4, w // 2),
                      "ServerLimit %d" % max(w, 8), "MaxRequestWorkers %d" % w]
        else:
            w = self.workers or 16
            lines += ["StartServers 1", "ServerLimit %d" % max(2, (w + 7) // 8), "ThreadsPerChild 8",
                      "MaxRequestWorkers %d" % w, "MinSpareThreads 8", "MaxSpareThreads %d" % max(16, w)]
        if self.root:
            # without User, Apache's children (and kanca) would stay uid 0 ("AH02155") rather than refuse
            lines += ["User %s" % RUN_USER, "Group %s" % RUN_GROUP]
        lines += [
            "# above kanca's own header caps (8192 per value, 128 headers), so that kanca, not Apache,",
            "# answers 431 (as the lighttpd test server does); Apache's defaults are 8190 and 100",
            "LimitRequestFieldSize 65535",
            "LimitRequestFields 200",
            "<Directory />",
            "  AllowOverride None",
            "  Require all denied",
            "</Directory>",
        ]
        extra = self._extra_env()
        if mode == "fcgid":
            lines += ["FcgidIPCDir %s/fcgid-sock" % run, "FcgidProcessTableFile %s/fcgid-shm" % run,
                      "FcgidMaxProcesses %d" % max(4, self.responders)]
            lines += ["FcgidInitialEnv %s %s" % kv for kv in extra.items()]
            lines += ["Include %s" % self.snippet]
        elif mode == "proxy_fcgi":
            lines += ["Include %s" % self.snippet]
        else:
            lines += ["TypesConfig /dev/null"]
            if mode == "cgid":
                lines += ["ScriptSock %s/cgid.sock" % run]
            lines += ["SetEnv %s %s" % kv for kv in extra.items()]
            lines += [
                "# the shared host: the account's web root, with what kanca's .htaccess files need",
                "<Directory %s>" % self.docroot,
                "  AllowOverride FileInfo %sOptions=ExecCGI" % ("AuthConfig " if self.authconfig else ""),
                "  # RewriteRule in .htaccess needs FollowSymLinks or SymLinksIfOwnerMatch",
                "  Options SymLinksIfOwnerMatch",
                "  Require all granted",
                "</Directory>",
            ]
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")

    # -- processes

    def start(self):
        if not self._registered:
            kt.at_cleanup(self.stop)
            self._registered = True
        self._prepare()
        if self.mode == "proxy_fcgi":
            self._start_spawn_fcgi()
        state = None
        for attempt in range(4):
            # the port found free may be taken before Apache binds it (AH00072): then another one
            self.port = kt.free_port()
            self.write_conf()
            out = open(self.stderr_log, "ab")
            self.proc = subprocess.Popen([APACHE, "-f", self.conf, "-DFOREGROUND"], stdin=subprocess.DEVNULL,
                                         stdout=out, stderr=out, cwd=self.run, start_new_session=True,
                                         env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C"})
            out.close()
            state = kt.wait_for(self._up, 15)
            if state == "up":
                return self
            tail = self.error_log_tail(20)
            self._stop_apache()
            if "AH00072" not in tail and "Address already in use" not in tail:
                break
        self._stop_spawn_fcgi()
        raise RuntimeError("apache2 (%s) did not come up (%s): %s" % (self.mode, state or "timeout",
                                                                      self.error_log_tail(20)))

    def _up(self):
        if self.proc.poll() is not None:
            return "exited"
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
            return "up"
        except OSError:
            return None

    def _start_spawn_fcgi(self):
        for p in (self.sock, self.spawn_pidfile):
            if os.path.exists(p):
                os.unlink(p)
        cmd = ["spawn-fcgi", "-s", self.sock, "-F", str(self.responders), "-P", self.spawn_pidfile, "-M", "0600"]
        if self.root:
            # kanca runs as Apache's User and the socket belongs to it (spawn-fcgi refuses to stay root)
            cmd += ["-u", RUN_USER, "-g", RUN_GROUP, "-U", RUN_USER, "-G", RUN_GROUP]
        cmd += ["--", self.kanca_bin]
        env = {"PATH": "/usr/bin:/bin"}
        env.update(self.env.kanca_env())
        p = subprocess.run(cmd, env=env, cwd=self.run, capture_output=True, timeout=30)
        try:
            with open(self.spawn_pidfile) as f:
                self.spawn_pids = [int(x) for x in f.read().split()]
        except (OSError, ValueError):
            self.spawn_pids = []
        if p.returncode != 0 or len(self.spawn_pids) != self.responders:
            self._stop_spawn_fcgi()
            raise RuntimeError("spawn-fcgi exited %d with pids %s: %s" % (
                p.returncode, self.spawn_pids, (p.stdout + p.stderr).decode(errors="replace")))

        def accepting():
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(self.sock)
                return True
            except OSError:
                return False
            finally:
                s.close()
        if not kt.wait_for(accepting, 10):
            self._stop_spawn_fcgi()
            raise RuntimeError("kanca does not accept on %s" % self.sock)

    def graceful(self):
        """apache2 -k graceful: SIGUSR1 to the parent (children finish their requests, then are replaced)."""
        os.kill(self.proc.pid, signal.SIGUSR1)

    def pids(self):
        """Apache's process group (with mod_fcgid's kanca processes) and the live spawn-fcgi responders."""
        group = kt.pids_in_group(self.proc.pid) if self.proc else []
        return group + [p for p in self.spawn_pids if _alive(p)]

    def _stop_apache(self):
        if self.proc is None:
            return
        kt.stop_server_group(self.proc)  # mod_fcgid's kanca processes and CGI children are in Apache's group
        self.proc = None

    def _stop_spawn_fcgi(self):
        pids = [p for p in self.spawn_pids if _alive(p) and _is_kanca(p)]
        pids += [c for c in _children(pids) if _is_kanca(c)]  # processors a responder forked
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for p in pids:
                try:
                    os.kill(p, sig)
                except ProcessLookupError:
                    pass
            if kt.wait_for(lambda: not [p for p in pids if _alive(p)], 10 if sig == signal.SIGTERM else 3):
                break
        self.spawn_pids = []

    def stop(self):
        self._stop_apache()
        self._stop_spawn_fcgi()

    # -- requests

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def send(self, method, path, headers=None, body=None, content_length=True, timeout=30):
        """-> kt.Response; status 0 (with the error in .stderr) when the answer is missing or cut off.
        content_length=False sends the body chunked (no Content-Length), as such senders do."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            if content_length or body is None:
                conn.request(method, path, body=body, headers=headers or {})
            else:
                conn.request(method, path, body=iter([body]), headers=headers or {}, encode_chunked=True)
            r = conn.getresponse()
            data = r.read()
            return kt.Response(r.status, {k.lower(): v for k, v in r.getheaders()}, data)
        except (http.client.HTTPException, OSError) as e:
            return kt.Response(0, {}, b"", stderr=("%s: %s" % (type(e).__name__, e)).encode())
        finally:
            conn.close()

    def raw_send(self, data, timeout=30):
        """Sends raw request bytes; reads until the server closes (bounded by timeout)."""
        return kt.raw_http(self.port, data, timeout)

    def error_log_tail(self, n=30):
        """The last n lines of Apache's error log (kanca's stderr lands there under mod_fcgid and CGI),
        then anything Apache printed on its own stderr."""
        out = ""
        for path in (self.errorlog, self.stderr_log):
            try:
                with open(path, errors="replace") as f:
                    out += "".join(f.readlines()[-n:])
            except OSError:
                pass
        return out

    log_tail = error_log_tail
