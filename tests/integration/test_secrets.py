"""Secrets and environment: delivery, scrubbing, and masking in every log."""
import base64
import os
import pwd
import stat
import subprocess
import time
import unittest

from harness import PROBE, Stack, needs_root, pids_matching, wait_for

SECRET = "hunter2-Xq9z-7788"


def files_under(*dirs):
    for d in dirs:
        for root, _, names in os.walk(d):
            for n in names:
                path = os.path.join(root, n)
                if os.path.isfile(path) and not stat.S_ISFIFO(os.lstat(path).st_mode):
                    yield path


class Masking(unittest.TestCase):
    def test_secret_never_reaches_a_log(self):
        b64 = base64.b64encode(SECRET.encode()).decode()
        half = len(SECRET) // 2
        long_line = "x" * 60000 + SECRET + "y" * 60000
        with_vars = {"LONG": long_line, "A": SECRET[:half], "B": SECRET[half:], "B64": b64}
        st = Stack(self, """
            version: "2"
            services:
              leaky:
                exec: ["python3", "-u", "-c", "import os, sys, time\\nw = sys.stdout.write\\nw('whole: ' + os.environ['TOKEN'] + '\\\\n'); sys.stdout.flush()\\nw('split: ' + os.environ['A']); sys.stdout.flush(); time.sleep(0.5)\\nw(os.environ['B'] + ' end\\\\n'); sys.stdout.flush()\\nw('b64: ' + os.environ['B64'] + '\\\\n')\\nw(os.environ['LONG'] + '\\\\n'); sys.stdout.flush()\\nw('stderr: ' + os.environ['TOKEN'] + '\\\\n')\\nsys.stderr.write('err ' + os.environ['TOKEN'] + '\\\\n')\\nw('last ' + os.environ['A']); sys.stdout.flush(); time.sleep(0.3)\\nw(os.environ['B'])"]
                env:
                  vars: {A: "${A}", B: "${B}", B64: "${B64}", LONG: "${LONG}"}
                secrets:
                  TOKEN: {env: THE_TOKEN}
            """, env=dict(with_vars, THE_TOKEN=SECRET))
        st.start()
        log = st.wait_log("leaky", "exited with code 0", 15) and st.log("leaky")
        for want in ("whole: ***\n", "split: *** end\n", "b64: ***\n", "err ***\n",
                     "x" * 100 + "***" + "y" * 100, "last ***"):  # last: the final bytes
            self.assertTrue(want in log, f"{want[:40]!r} not in the log")
        self.assertFalse(SECRET in log, "the secret is in the log")
        self.assertNotIn(SECRET[:half] + SECRET[half:], st.out())
        self.assertIn("leaky | whole: ***", st.out())
        st.stop()
        for path in files_under(st.state_dir, st.run_dir):
            with open(path, "rb") as f:
                data = f.read()
            self.assertNotIn(SECRET.encode(), data, path)
            self.assertNotIn(b64.encode(), data, path)

    def test_sysg_own_messages_are_masked(self):
        st = Stack(self, """
            version: "2"
            services:
              odd:
                exec: ["${THE_TOKEN}"]
                secrets:
                  TOKEN: {env: THE_TOKEN}
            """, env={"THE_TOKEN": SECRET})
        r = st.sysg("start", "-c", st.config, "--daemonize")
        self.assertEqual(r.returncode, 1)
        self.assertIn("'***' not found in PATH", r.stderr)
        self.assertNotIn(SECRET, r.stderr)
        with open(os.path.join(st.state_dir, "supervisor.log")) as f:
            self.assertNotIn(SECRET, f.read())
        for pid in pids_matching(st.config):
            os.kill(pid, 15)

    def test_missing_secret_source_fails_with_name_not_value(self):
        st = Stack(self, """
            version: "2"
            services:
              a:
                command: "true"
                secrets:
                  DB_PASSWORD: {file: /nonexistent/pw}
                  API_KEY: {env: NO_SUCH_VAR_HERE}
            """)
        r = st.sysg("start", "-c", st.config, "--daemonize")
        self.assertEqual(r.returncode, 1)
        self.assertIn("secret DB_PASSWORD: /nonexistent/pw: No such file or directory", r.stderr)
        for pid in pids_matching(st.config):
            os.kill(pid, 15)


class Delivery(unittest.TestCase):
    def test_env_delivery(self):
        with open("/tmp/sysg-test-secret-%d" % os.getpid(), "w") as f:
            f.write("from-a-file\n")
            path = f.name
        self.addCleanup(os.unlink, path)
        st = Stack(self, f"""
            version: "2"
            services:
              p:
                exec: ["{{probe}}", "--sleep", "0", "--out", "{{dir}}/p.json"]
                secrets:
                  FROM_FILE: {{file: {path}}}
                  FROM_VALUE: {{value: "literal-value"}}
            """)
        st.start()
        env = st.probe("p")["env"]
        self.assertEqual(env["FROM_FILE"], "from-a-file")  # one trailing newline dropped
        self.assertEqual(env["FROM_VALUE"], "literal-value")
        self.assertNotIn("CREDENTIALS_DIRECTORY", env)

    @needs_root
    def test_file_delivery_owner_mode_lifetime_and_privacy(self):
        st = Stack(self, """
            version: "2"
            services:
              owner:
                exec: ["{probe}", "--sleep", "0", "--out", "{dir}/owner.json"]
                user: nobody
                secrets:
                  db_password: {value: "s3cret-pw-value", deliver: file}
              other:
                exec: ["sh", "-c", "cat $0/db_password > {dir}/other.out 2>&1; ls $0 >> {dir}/other.out 2>&1; exec sleep 100", "{dir}/run/credentials/owner"]
                user: daemon
            """)
        os.chmod(st.dir, 0o777)
        st.start()
        env = st.probe("owner")["env"]
        creds = env["CREDENTIALS_DIRECTORY"]
        self.assertEqual(creds, os.path.join(st.run_dir, "credentials", "owner"))
        f = os.path.join(creds, "db_password")
        s = os.stat(f)
        nobody = pwd.getpwnam("nobody")
        self.assertEqual((s.st_uid, s.st_gid), (nobody.pw_uid, nobody.pw_gid))
        self.assertEqual(stat.S_IMODE(s.st_mode), 0o400)
        self.assertEqual(stat.S_IMODE(os.stat(creds).st_mode), 0o500)
        with open(f) as fh:
            self.assertEqual(fh.read(), "s3cret-pw-value")
        # a tmpfs: never on disk
        with open("/proc/self/mounts") as m:
            self.assertIn(creds, m.read())
        # another service (another user) sees nothing
        out = wait_for(lambda: os.path.exists(st.path("other.out")) and
                       open(st.path("other.out")).read())
        self.assertIn("Permission denied", out)
        self.assertNotIn("s3cret-pw-value", out)
        st.stop()
        self.assertFalse(os.path.exists(creds))
        with open("/proc/self/mounts") as m:
            self.assertNotIn(creds, m.read())


class Environment(unittest.TestCase):
    def test_env_file_reread_at_each_start(self):
        st = Stack(self, """
            version: "2"
            services:
              p:
                exec: ["sh", "-c", "echo GOT=$COLOR >> {dir}/seen; sleep 0.3; exit 1"]
                env: {file: app.env}
                restart_policy: on-failure
                backoff: 100ms
            """)
        with open(st.path("app.env"), "w") as f:
            f.write("export COLOR='red'\n")
        st.start()
        wait_for(lambda: "GOT=red" in st.lines("seen"))
        with open(st.path("app.env"), "w") as f:
            f.write("COLOR=\"blue\"  # changed\n")
        wait_for(lambda: "GOT=blue" in st.lines("seen"), 5, what="new value after restart")

    def test_unreadable_env_file_at_start_is_a_clear_failure(self):
        st = Stack(self, """
            version: "2"
            services:
              p:
                command: "true"
                env: {file: missing.env}
            """)
        r = st.sysg("start", "-c", st.config, "--daemonize")
        self.assertEqual(r.returncode, 1)
        self.assertIn(f"env file {st.dir}/missing.env: No such file or directory", r.stderr)
        for pid in pids_matching(st.config):
            os.kill(pid, 15)

    def test_session_variables_are_not_inherited_in_user_mode(self):
        st = Stack(self, """
            version: "2"
            services:
              p:
                exec: ["{probe}", "--sleep", "0", "--out", "{dir}/p.json"]
            """, system=False, env={"SSH_AUTH_SOCK": "/tmp/agent", "KEEP_ME": "1",
                                    "DROP_ME": "x"})
        st.write("""
            version: "2"
            services:
              p:
                exec: ["{probe}", "--sleep", "0", "--out", "{dir}/p.json"]
                env: {strip: [DROP_ME]}
            """)
        st.start()
        env = st.probe("p")["env"]
        self.assertEqual(env.get("KEEP_ME"), "1")  # user mode inherits by default
        self.assertNotIn("SSH_AUTH_SOCK", env)
        self.assertNotIn("DROP_ME", env)
        self.assertNotIn("SYSG_RUNTIME_DIR", env)


if __name__ == "__main__":
    unittest.main()
