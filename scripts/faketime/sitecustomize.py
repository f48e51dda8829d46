import os
if os.environ.get("FAKETIME"):
    import select, time
    def _sleep(seconds):
        select.select([], [], [], seconds)
    time.sleep = _sleep
