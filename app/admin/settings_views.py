"""The site settings page (/admin/settings): admins only, as every setting changes the whole site."""
from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user
from wtforms import RadioField

from app.forms import BaseForm
from app.services import Conflict, NotAllowed, ServiceError, settings
from app.web import form_error, roles_required

bp = Blueprint("settings", __name__, url_prefix="/admin/settings")


class SettingsForm(BaseForm):
    # Any value reaches the service, which says what is wrong beside the field (validate_choice off:
    # WTForms' own "Not a valid choice" is not ours to word or translate).
    board_visibility = RadioField(_l("Who can read the requests, offers and group sessions"), validate_choice=False,
                                  choices=list(settings.SETTINGS[settings.BOARD_VISIBILITY].labels.items()))


@bp.route("", methods=["GET", "POST"])
@roles_required("admin")
def edit():
    form = SettingsForm(data=settings.values())
    if form.validate_on_submit():
        try:
            changed = settings.update(current_user._get_current_object(), {key: form[key].data for key in settings.SETTINGS})
        except NotAllowed as err:
            return render_template("errors/error.html", code=403, title=_("Not allowed"), message=err.message), 403
        except Conflict as err:
            form.form_errors.append(err.message)
        except ServiceError as err:
            form_error(form, err)
        else:
            flash(_("The settings are saved.") if changed else _("Nothing changed."), "success")
            return redirect(url_for("settings.edit"))
    return render_template("admin/settings.html", form=form), (422 if form.errors or form.form_errors else 200)
