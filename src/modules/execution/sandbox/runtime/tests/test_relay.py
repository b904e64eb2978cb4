"""Frames between the service and a zygote's relay."""
import random
import unittest
import zlib

import support

relay = support.runtime().relay


def summary(frames):
    """Frames with their payloads' length and checksum in place of the payloads: a failure's diff stays short."""
    return [(kind, sandbox_id, len(payload), zlib.crc32(payload)) for kind, sandbox_id, payload in frames]


class FrameTest(unittest.TestCase):
    def assertFrames(self, taken, frames):
        self.assertEqual(summary(taken), summary(frames))
        self.assertTrue(taken == frames)

    def setUp(self):
        relay.OUTBOX.clear()

    def tearDown(self):
        relay.OUTBOX.clear()

    def test_layout(self):
        # What zygote.ts writes and reads: kind, sandbox id (uint32 LE), payload length (uint32 LE), payload.
        relay.send_frame(relay.DATA, 0x01020304, b'\x01hi')
        self.assertEqual(bytes(relay.OUTBOX), b'D' + bytes([4, 3, 2, 1]) + bytes([3, 0, 0, 0]) + b'\x01hi')
        self.assertEqual(relay.HEADER_BYTES, 9)

    def test_kinds_come_from_the_protocol(self):
        kinds = support.protocol()['frame_kinds']
        self.assertEqual(
            [relay.START, relay.DATA, relay.END, relay.KILL, relay.READY, relay.GONE],
            [kinds[name].encode() for name in ('start', 'data', 'end', 'kill', 'ready', 'gone')],
        )
        self.assertEqual(len(set(kinds.values())), len(kinds))

    def frames(self):
        return [
            (relay.READY, 0, b''),
            (relay.DATA, 1, b'\x00' + bytes(range(256)) * 300),
            (relay.END, 1, b'\x03'),
            (relay.KILL, 2 ** 32 - 1, b''),
            (relay.DATA, 7, b'\x04S'),
        ]

    def encoded(self, frames):
        for kind, sandbox_id, payload in frames:
            relay.send_frame(kind, sandbox_id, payload)
        return bytes(relay.OUTBOX)

    def test_whole_frames_at_once(self):
        frames = self.frames()
        inbox = bytearray(self.encoded(frames))
        self.assertFrames(relay.take_frames(inbox), frames)
        self.assertEqual(inbox, b'')

    def test_frames_in_pieces(self):
        # However the bytes arrive, every frame comes out whole, once, in order, and a part waits for the rest.
        frames = self.frames()
        data = self.encoded(frames)
        for piece in (1, 2, 8, 9, 10, 4096, None):
            with self.subTest(piece=piece):
                randomly = random.Random(piece)
                inbox = bytearray()
                taken = []
                start = 0
                while start < len(data):
                    end = start + (piece or randomly.randint(1, 20000))
                    inbox += data[start:end]
                    start = end
                    taken.extend(relay.take_frames(inbox))
                    # What is left is never a whole frame.
                    self.assertEqual(summary(relay.take_frames(bytearray(inbox))), [])
                self.assertFrames(taken, frames)
                self.assertEqual(inbox, b'')

    def test_a_partial_frame_stays(self):
        data = self.encoded([(relay.DATA, 5, b'\x01abc')])
        for end in range(len(data)):
            inbox = bytearray(data[:end])
            self.assertEqual(summary(relay.take_frames(inbox)), [])
            self.assertEqual(inbox, data[:end])


class SandboxFdsTest(unittest.TestCase):
    def test_fds_come_from_the_protocol(self):
        fds = support.protocol()['fds']
        self.assertEqual(relay.SANDBOX_FDS, 5)
        self.assertEqual(relay.TO_SANDBOX, (fds['stdin'], fds['job']))
        self.assertEqual(relay.FROM_SANDBOX, (fds['stdout'], fds['stderr']))
        self.assertEqual(relay.MARKS, fds['report'])


if __name__ == '__main__':
    unittest.main()
