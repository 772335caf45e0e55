# The trivial view added to the project `django-admin startproject` made.
import django
from django.http import JsonResponse


def hello(request):
    return JsonResponse({"app": "mysite", "django": django.get_version()})
