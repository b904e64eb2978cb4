"""How a runtime reaches a sandbox's interpreter: bootstrap.py loads it from fd 3, compiler.py compiles it ahead."""
import marshal
import sys
import unittest
import warnings

import support
from support import bootstrap

HELLO = {
    'main': 'hello',
    'protocol': {'greeting': 'hi'},
    'modules': [
        ['words', 'WORD = "there"\n'],
        ['hello', 'import sys\nfrom .protocol import greeting\nfrom .words import WORD\n\ndef main():\n    print(greeting, WORD, __name__, sys.argv[1:])\n'],
    ],
}


class LoadTest(unittest.TestCase):
    def test_every_program_loads_as_python_runtime_ts_sends_it(self):
        for main, names in (('launcher', ['program', 'launcher']), ('zygote', ['program', 'probe', 'relay', 'zygote'])):
            with self.subTest(main=main), warnings.catch_warnings():
                # Not even an ImportWarning: each module knows its package.
                warnings.simplefilter('error')
                module = bootstrap.load(support.source_bundle(main, names))
                self.assertEqual(module.__name__, '_coderunner.' + main)
                self.assertTrue(callable(module.main))

    def test_the_protocol_module_is_protocol_json(self):
        bootstrap.load(support.source_bundle('program', ['program']))
        protocol = sys.modules['_coderunner.protocol']
        for key, value in support.protocol().items():
            self.assertEqual(getattr(protocol, key), value)

    def test_a_jobs_modules_are_not_shadowed(self):
        # A job's own program.py or protocol.py must be what it imports.
        bootstrap.load(support.source_bundle('program', ['program']))
        self.assertNotIn('program', sys.modules)
        self.assertNotIn('protocol', sys.modules)
        self.assertIn('_coderunner.program', sys.modules)

    def test_compiled_as_sources(self):
        compiled = support.compiled(support.framed(HELLO))
        self.assertEqual(int.from_bytes(compiled[:4], 'little'), sys.hexversion)
        self.assertEqual(int.from_bytes(compiled[4:8], 'little'), len(compiled) - 8)
        module = bootstrap.load(marshal.loads(compiled[8:]))
        self.assertEqual(module.__name__, '_coderunner.hello')

    def test_the_compiler_takes_sources_only(self):
        compiled = support.compiled(support.framed(HELLO))
        with self.assertRaises(SystemExit):
            support.compiled(compiled)


class BootstrapProcessTest(unittest.TestCase):
    def test_runs_the_main_module_of_sources(self):
        status, out, err, _ = support.run_bootstrap(support.framed(HELLO), args=['7'])
        self.assertEqual((status, out, err), (0, b"hi there _coderunner.hello ['7']\n", b''))

    def test_runs_the_main_module_compiled(self):
        status, out, err, _ = support.run_bootstrap(support.compiled(support.framed(HELLO)))
        self.assertEqual((status, out, err), (0, b"hi there _coderunner.hello []\n", b''))

    def test_refuses_a_runtime_compiled_for_another_python(self):
        compiled = support.compiled(support.framed(HELLO))
        other = (sys.hexversion + 1).to_bytes(4, 'little') + compiled[4:]
        status, out, err, _ = support.run_bootstrap(other)
        self.assertNotEqual(status, 0)
        self.assertIn(b'compiled for another Python version', err)

    def test_refuses_a_missing_runtime(self):
        status, _, err, _ = support.run_bootstrap(support.framed(HELLO)[:20])
        self.assertNotEqual(status, 0)
        self.assertIn(b'no runtime on fd 3', err)


if __name__ == '__main__':
    unittest.main()
