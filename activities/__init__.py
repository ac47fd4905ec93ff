"""Activity plugins. `build_registry()` is the one list of activities the app serves;
adding an activity is a module, one line here and its tests."""
from .base import Registry


def build_registry():
    from . import canvas, sandtray
    from . import calm, checkin, stories
    from . import schedule

    registry = Registry()
    registry.add(canvas)
    registry.add(sandtray)
    registry.add(calm)
    registry.add(checkin)
    registry.add(stories)
    registry.add(schedule)
    return registry
