"""dlpx.virtualization.libs: the vSDK's signatures, argument checks, check=True, errors and PlatformHandler."""
import logging
import unittest

import support

from dlpx.virtualization import _engine, libs
from dlpx.virtualization.common import RemoteConnection, PasswordCredentials, KeyPairCredentials
from dlpx.virtualization.common.exceptions import PluginRuntimeError
from dlpx.virtualization.libs.exceptions import IncorrectArgumentTypeError, LibraryError, PluginScriptError


def connection():
    return RemoteConnection._from_engine(support.connection_json())


class RunBashTest(support.ChannelTest, unittest.TestCase):
    answers = {"runBash": {"exitCode": 0, "stdout": "out\n", "stderr": ""}}

    def test_sends_the_engine_connection_command_and_options(self):
        result = libs.run_bash(connection(), "echo $NAME", {"NAME": "x"}, use_login_shell=True)
        self.assertEqual((result.exit_code, result.stdout, result.stderr), (0, "out\n", ""))
        method, params = self.channel.calls[0]
        self.assertEqual(method, "runBash")
        # the connection goes back as the engine gave it, so the engine's references check sees its own references
        self.assertEqual(params[0], support.connection_json())
        self.assertEqual(params[1:], ["echo $NAME", {"useLoginShell": True, "variables": {"NAME": "x"}}])

    def test_bytes_are_accepted_for_command_and_variables(self):
        libs.run_bash(connection(), b"echo \xc3\xa9", {b"NAME": "v\xe9".encode("utf-8")})
        self.assertEqual(self.channel.calls[0][1][1], "echo é")
        self.assertEqual(self.channel.calls[0][1][2]["variables"], {"NAME": "vé"})

    def test_check_raises_plugin_script_error_on_a_non_zero_exit(self):
        self.channel.answers["runBash"] = {"exitCode": 3, "stdout": "so", "stderr": "se"}
        self.assertEqual(libs.run_bash(connection(), "false").exit_code, 3)
        with self.assertRaises(PluginScriptError) as raised:
            libs.run_bash(connection(), "false", check=True)
        self.assertIn("The script failed with exit code 3", str(raised.exception))
        self.assertIn("so", str(raised.exception))
        self.assertIn("se", str(raised.exception))
        self.assertEqual(raised.exception.exit_code, 3)

    def test_wrong_argument_types_are_refused_before_any_call(self):
        cases = [
            (lambda: libs.run_bash("env-1", "ls"), "run_bash's argument 'remote_connection'"),
            (lambda: libs.run_bash(connection(), 5), "The function run_bash's argument 'command' was type 'int' but should be of type 'str'."),
            (lambda: libs.run_bash(connection(), "ls", ["A"]), "run_bash's argument 'variables'"),
            (lambda: libs.run_bash(connection(), "ls", {"A": 1}), "run_bash's argument 'variables'"),
            (lambda: libs.run_bash(connection(), "ls", use_login_shell="yes"), "'use_login_shell'"),
            (lambda: libs.run_bash(connection(), "ls", check=1), "'check'"),
            (lambda: libs.run_expect(connection(), None), "run_expect's argument 'command'"),
            (lambda: libs.run_sync(connection(), 7), "run_sync's argument 'source_directory'"),
            (lambda: libs.run_sync(connection(), "/d", exclude_paths="x"), "'exclude_paths'"),
            (lambda: libs.retrieve_credentials("user-1"), "retrieve_credentials's argument 'credentials_supplier'"),
        ]
        for call, message in cases:
            with self.assertRaises(IncorrectArgumentTypeError) as raised:
                call()
            self.assertIsInstance(raised.exception, PluginRuntimeError)
            self.assertIn(message, str(raised.exception))
        self.assertEqual(self.channel.calls, [])

    def test_an_engine_error_becomes_a_library_error(self):
        self.channel.answers["runBash"] = _engine.EngineError(
            {"code": "HOST_UNREACHABLE", "message": "host1 did not answer", "retryable": True}
        )
        with self.assertRaises(LibraryError) as raised:
            libs.run_bash(connection(), "ls")
        self.assertEqual(raised.exception.id, "HOST_UNREACHABLE")
        self.assertTrue(raised.exception.retryable)
        self.assertEqual(str(raised.exception), "host1 did not answer")


class OtherLibrariesTest(support.ChannelTest, unittest.TestCase):
    answers = {
        "runExpect": {"exitCode": 1, "stdout": "", "stderr": "no"},
        "runSync": {"files": 3},
        "retrieveCredentials": {"username": "delphix", "password": "pw"},
    }

    def test_run_expect(self):
        self.assertEqual(libs.run_expect(connection(), "expect script").exit_code, 1)
        with self.assertRaises(PluginScriptError):
            libs.run_expect(connection(), "expect script", check=True)
        self.assertEqual(self.channel.calls[0][1][1:], ["expect script", {}])

    def test_run_sync(self):
        self.assertIsNone(libs.run_sync(connection(), "/data", exclude_paths=["tmp"], sym_links_to_follow=[b"link"]))
        method, params = self.channel.calls[0]
        self.assertEqual(method, "runSync")
        self.assertEqual(
            params[0],
            {
                "remoteConnection": support.connection_json(),
                "sourceDirectory": "/data",
                "excludePaths": ["tmp"],
                "symLinksToFollow": ["link"],
            },
        )

    def test_retrieve_credentials(self):
        named = libs.retrieve_credentials({"type": "NamedPasswordCredential", "username": "u", "password": "p"})
        self.assertIsInstance(named, PasswordCredentials)
        self.assertEqual((named.username, named.password), ("u", "p"))
        key = libs.retrieve_credentials({"type": "NamedKeyPairCredential", "privateKey": "KEY"})
        self.assertIsInstance(key, KeyPairCredentials)
        self.assertEqual(key.private_key, "KEY")
        self.assertEqual(self.channel.calls, [])
        user = libs.retrieve_credentials({"reference": "user-1"})
        self.assertEqual((user.username, user.password), ("delphix", "pw"))
        self.assertEqual(self.channel.calls, [("retrieveCredentials", ["user-1"])])
        with self.assertRaises(LibraryError):
            libs.retrieve_credentials({"type": "CyberArkVaultCredential"})

    def test_upgrade_password(self):
        self.assertEqual(
            libs.upgrade_password("pw", "u"), {"type": "NamedPasswordCredential", "password": "pw", "username": "u"}
        )

    def test_run_powershell_is_refused(self):
        with self.assertRaises(LibraryError) as raised:
            libs.run_powershell(connection(), "Get-Item")
        self.assertEqual(raised.exception.id, "WINDOWS_UNSUPPORTED")


class PlatformHandlerTest(support.ChannelTest, unittest.TestCase):
    def test_records_go_to_the_engine_log_at_their_level(self):
        logger = logging.getLogger("plugin-test")
        handler = libs.PlatformHandler()
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
        try:
            logger.debug("d")
            logger.info("i %s", "x")
            logger.warning("w")
            logger.error("e")
            logger.critical("c")
        finally:
            logger.removeHandler(handler)
        self.assertEqual(
            [(level, message) for level, message, _ in self.channel.logs],
            [("debug", "d"), ("info", "i x"), ("warn", "w"), ("error", "e"), ("error", "c")],
        )


class OutsideAnOperationTest(unittest.TestCase):
    def test_libraries_say_they_need_the_engine(self):
        previous = _engine.install(None)
        try:
            with self.assertRaises(PluginRuntimeError) as raised:
                libs.run_bash(connection(), "ls")
            self.assertIn("only inside a plugin operation run by the dvx engine", str(raised.exception))
        finally:
            _engine.install(previous)


if __name__ == "__main__":
    unittest.main()
