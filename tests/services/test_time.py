from datetime import date, time
from zoneinfo import ZoneInfo

from app.timeutil import local_to_utc, utc_to_local

CHICAGO = ZoneInfo("America/Chicago")


def test_local_times_convert_right_across_daylight_saving():
    # 9:00 in Chicago is 15:00 UTC in winter (CST) and 14:00 UTC in summer (CDT)
    assert local_to_utc(date(2027, 3, 13), time(9, 0), CHICAGO).hour == 15
    assert local_to_utc(date(2027, 3, 15), time(9, 0), CHICAGO).hour == 14
    assert utc_to_local(local_to_utc(date(2027, 3, 15), time(9, 0), CHICAGO), CHICAGO).hour == 9


def test_post_window_across_dst_shows_the_wall_clock_time(app, make_user, make_post):
    from datetime import datetime

    app.config["COMMUNITY_TZ"] = "America/Chicago"
    post = make_post(make_user(), flexible=False,
                     windows=[(datetime(2027, 3, 15, 9, 0), datetime(2027, 3, 15, 11, 0))])
    window = post.windows[0]
    assert (window.start_at.hour, utc_to_local(window.start_at, CHICAGO).hour) == (14, 9)
