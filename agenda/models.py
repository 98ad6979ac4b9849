# Assessments, insights, the agenda and its reports arrive with their issues.
