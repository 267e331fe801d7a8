"""Demo data for help that repeats: a resident's standing ride to work for four weeks (and a
driver free every weekday morning), groceries every Saturday, and a ride there and back."""
from datetime import date, datetime, time, timedelta

from app.services.posts import PostInput
from app.services.repeat import RepeatInput


def _next_monday(today: date) -> date:
    return today + timedelta(days=(7 - today.weekday()) % 7 or 7)


def seed(add, today: date, resident, login_resident, driver, coordinator) -> None:
    """Add the posts through the demo's `add(owner, PostInput, created_by=...)`."""
    monday = _next_monday(today)
    add(driver, PostInput(kind="offer", category="rides", title="Weekday morning rides to work", zip_code=driver.zip_code,
                          quantity=1, radius_miles=25.0, details="I drive to Stillwater before 9 every weekday.",
                          weekly=[(d, 6 * 60, 9 * 60) for d in range(5)]))
    add(login_resident, PostInput(kind="need", category="rides", title="Ride to my new job, weekday mornings",
                                  details="Four weeks until my own car is fixed.", zip_code=login_resident.zip_code,
                                  flexible=False, appointment_at=datetime.combine(monday, time(7, 30)), duration_min=30,
                                  destination_kind="work", pickup_area="Near downtown",
                                  repeat=RepeatInput(days=[0, 1, 2, 3, 4], count=20)))
    saturday = monday + timedelta(days=5)
    start = datetime.combine(saturday, time(10, 0))
    add(resident, PostInput(kind="need", category="food", title="Groceries every Saturday", zip_code=resident.zip_code,
                            flexible=False, duration_min=60, windows=[(start, start + timedelta(hours=2))],
                            repeat=RepeatInput(days=[5], count=6)), created_by=coordinator)
    clinic = datetime.combine(monday + timedelta(days=2), time(10, 0))
    add(resident, PostInput(kind="need", category="rides", title="Ride to the clinic and back", zip_code=resident.zip_code,
                            flexible=False, appointment_at=clinic, duration_min=30, destination_kind="medical",
                            return_trip=True, return_time=time(11, 30)), created_by=coordinator)
