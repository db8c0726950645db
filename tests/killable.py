"""Source for a subprocess that saves an index and is killed midway: run first, it makes every
checked file's write pause (for 60 s, printing "writing") after the third file is written."""

PAUSE_AT_THIRD_WRITE = """
import time
from bot.core import checkedfiles
_real, _written = checkedfiles.Writer.write, [0]
def _slow(self, name, data):
    _real(self, name, data)
    _written[0] += 1
    if _written[0] == 3:
        print("writing", flush=True)
        time.sleep(60)
checkedfiles.Writer.write = _slow
"""
