"""Activity plugins. `build_registry()` is the one list of activities the app serves;
adding an activity is a module, one line here and its tests."""
from activities.contract import Registry


def build_registry():
    from activities import canvas
    from activities import sandtray
    from activities import calm
    from activities import checkin
    from activities import stories
    from activities import schedule
    from activities import home

    registry = Registry()
    registry.add(canvas)
    registry.add(sandtray)
    registry.add(calm)
    registry.add(checkin)
    registry.add(stories)
    registry.add(schedule)
    registry.add(home)           # not a tab: home practice (issue 17 part 3)
    return registry
